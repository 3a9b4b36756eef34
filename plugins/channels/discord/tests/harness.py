"""Running the Discord plugin against the fake Discord: a channel on its own, or the channels
service with the echo agent (pairing, access policy, dedupe, delivery)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moltbot_discord
import trio
from moltbot_discord.channel import DiscordChannel
from moltbot_discord.config import DiscordConfig

from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent, echo_stack
from moltbot.channels.testing import eventually as eventually
from moltbot.testing import build_context

from .fake_discord import FakeDiscord


def discord_config(fake: FakeDiscord, **extra: Any) -> dict[str, Any]:
    return {"botToken": fake.token, "apiBaseUrl": fake.api, **extra}


def channel_for(fake: FakeDiscord, tmp_path: Path, **extra: Any) -> DiscordChannel:
    config = DiscordConfig.model_validate(discord_config(fake, **extra))
    return DiscordChannel(config, build_context(tmp_path, "discord"))


async def started_fake(nursery: trio.Nursery, **options: Any) -> FakeDiscord:
    fake = FakeDiscord(**options)
    await nursery.start(fake.run)
    return fake


@dataclass
class Stack:
    app: App
    service: ChannelsService
    agent: EchoAgent

    def status(self) -> dict[str, Any]:
        return self.service.status()["channels"]["discord"]

    def state(self) -> str:
        return self.status()["state"]


@asynccontextmanager
async def stack(state: Path, discord: dict[str, Any], **service: Any) -> AsyncIterator[Stack]:
    async with echo_stack(
        state, {"discord": discord}, moltbot_discord.moltbot_register_channels, **service
    ) as s:
        yield Stack(s.app, s.service, s.agent)


@asynccontextmanager
async def running(state: Path, fake: FakeDiscord, **discord: Any) -> AsyncIterator[Stack]:
    """:func:`stack` with one bot on ``fake``, once its channel is running."""
    async with stack(state, discord_config(fake, **discord)) as s:
        await eventually(lambda: s.state() == "running", "running")
        yield s

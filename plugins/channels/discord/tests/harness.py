"""Running the Discord plugin against the fake Discord: a channel on its own, or the channels
service with the echo agent (pairing, access policy, dedupe, delivery)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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
from moltbot.channels.supervisor import RestartPolicy
from moltbot.channels.testing import EchoAgent
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.testing import build_context, make_plugins

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
    env = {"MOLTBOT_STATE_DIR": str(state)}
    paths = resolve_paths(env)
    config = {
        "gateway": {"auth": {"mode": "token", "token": "gateway-token-0123456789abcdef"}},
        "agent": {"workspace": str(state.parent / "workspace")},
        "channels": {"discord": discord},
    }
    write_config(paths.config_path, config)
    plugins = make_plugins(moltbot_discord.moltbot_register_channels)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    agent = EchoAgent(app)
    channels = ChannelsService(app, policy=RestartPolicy(initial=0.05, cap=0.2, stable_after=5), **service)
    app.services.update(agent=agent, channels=channels)
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels.run)
        yield Stack(app, channels, agent)
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def running(state: Path, fake: FakeDiscord, **discord: Any) -> AsyncIterator[Stack]:
    """:func:`stack` with one bot on ``fake``, once its channel is running."""
    async with stack(state, discord_config(fake, **discord)) as s:
        await eventually(lambda: s.state() == "running", "running")
        yield s


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 8.0) -> None:
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out waiting for {what}")

"""Running the channels service with the Telegram plugin against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moltbot_telegram
import trio

from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.supervisor import RestartPolicy
from moltbot.channels.testing import EchoAgent
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.testing import make_plugins

from .fake_telegram import TOKEN, FakeTelegram


def telegram_config(fake: FakeTelegram, **extra: Any) -> dict[str, Any]:
    return {"botToken": TOKEN, "apiBaseUrl": fake.base_url, "pollTimeout": 1000, **extra}


@dataclass
class Stack:
    app: App
    service: ChannelsService
    agent: EchoAgent

    def state(self) -> str:
        return self.service.status()["channels"]["telegram"]["state"]


@asynccontextmanager
async def stack(state: Path, telegram: dict[str, Any], **service: Any) -> AsyncIterator[Stack]:
    env = {"MOLTBOT_STATE_DIR": str(state)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"channels": {"telegram": telegram}})
    plugins = make_plugins(moltbot_telegram.moltbot_register_channels)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    agent = EchoAgent(app)
    channels = ChannelsService(app, policy=RestartPolicy(initial=0.05, cap=0.2, stable_after=5), **service)
    app.services.update(agent=agent, channels=channels)
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels.run)
        yield Stack(app, channels, agent)
        nursery.cancel_scope.cancel()


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 8.0) -> None:
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out waiting for {what}")

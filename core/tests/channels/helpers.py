"""Helpers: an App with an in-memory channel, the channels service and the echo stand-in agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

import moltbot
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.supervisor import RestartPolicy
from moltbot.channels.testing import EchoAgent
from moltbot.channels.testing import eventually as eventually
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.testing import MemoryChatChannel, make_plugins


@moltbot.hookimpl
def moltbot_register_channels() -> Any:
    yield moltbot.ChannelSpec(name="memory", factory=MemoryChatChannel, config=moltbot.ChannelConfig)


def make_app(state: Path, channels: dict[str, Any]) -> App:
    env = {"MOLTBOT_STATE_DIR": str(state)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"channels": channels})
    plugins = make_plugins(moltbot_register_channels)
    return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)


@dataclass
class Running:
    app: App
    service: ChannelsService
    agent: EchoAgent

    @property
    def memory(self) -> MemoryChatChannel:
        return self.service.channels["memory"].channel  # type: ignore[return-value]


@asynccontextmanager
async def running(
    state: Path, channels: dict[str, Any] | None = None, **service: Any
) -> AsyncIterator[Running]:
    app = make_app(state, channels if channels is not None else {"memory": {}})
    agent = EchoAgent(app)
    channels_service = ChannelsService(app, policy=RestartPolicy(initial=0.01, cap=0.05), **service)
    app.services.update(agent=agent, channels=channels_service)
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels_service.run)
        yield Running(app, channels_service, agent)
        nursery.cancel_scope.cancel()

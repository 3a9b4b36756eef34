"""Helpers for gateway tests: an App on a temp state dir and an in-process gateway on port 0."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio
from trio_websocket import WebSocketConnection

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.client import ConnectOptions, GatewayClient, connect, connect_frame, open_ws
from moltbot.gateway.server import Gateway
from moltbot.plugins import Plugins, load_plugins

TOKEN = "test-token-0123456789abcdefghijklmnopqrstuvwxyz"
TEST_DEADLINE = 60.0
"""Seconds any async gateway test may take before it fails with ``trio.TooSlowError``."""


def _bounded(test: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(test)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with trio.fail_after(TEST_DEADLINE):
            return await test(*args, **kwargs)

    return wrapper


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every async test in this directory under :data:`TEST_DEADLINE`, so a regression
    that waits forever fails fast with a traceback instead of hanging CI (not tests on a mock
    clock, which jump past any deadline; their waits are bounded by the client's own)."""
    here = Path(__file__).parent
    for item in items:
        test = getattr(item, "obj", None)
        if (
            isinstance(item, pytest.Function)
            and item.path.parent == here
            and inspect.iscoroutinefunction(test)
            and not hasattr(test, "hypothesis")
            and not {"mock_clock", "autojump_clock"} & set(item.fixturenames)
        ):
            item.obj = _bounded(test)


def base_config(**gateway: Any) -> dict[str, Any]:
    return {"gateway": {"auth": {"mode": "token", "token": TOKEN}, **gateway}}


@pytest.fixture
def make_app(moltbot_home: Path) -> Callable[..., App]:
    def build(config: dict[str, Any] | None = None, plugins: Plugins | None = None) -> App:
        env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
        paths = resolve_paths(env)
        write_config(paths.config_path, config if config is not None else base_config())
        plugins = plugins or load_plugins(entrypoints=False)
        return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)

    return build


@asynccontextmanager
async def running(app: App) -> AsyncIterator[Gateway]:
    """The gateway on 127.0.0.1:<free port>, stopped (cancelled) on exit."""
    async with trio.open_nursery() as nursery:
        gateway = Gateway(app, port=0)
        app.services["gateway"] = gateway
        await nursery.start(gateway.run)
        yield gateway
        nursery.cancel_scope.cancel()


def client(gateway: Gateway, **opts: Any) -> Any:
    opts.setdefault("token", TOKEN)
    return connect(gateway.urls[0], ConnectOptions(**opts))


@asynccontextmanager
async def raw(gateway: Gateway, **kw: Any) -> AsyncIterator[WebSocketConnection]:
    """A bare WebSocket to the gateway, with the challenge already read."""
    async with open_ws(gateway.urls[0], **kw) as ws:
        challenge = json.loads(await ws.get_message())
        assert challenge["event"] == "connect.challenge"
        yield ws


async def handshake(ws: WebSocketConnection, **opts: Any) -> dict[str, Any]:
    opts.setdefault("token", TOKEN)
    await ws.send_message(json.dumps(connect_frame(None, ConnectOptions(**opts))))
    return json.loads(await ws.get_message())


__all__ = ["TOKEN", "GatewayClient", "base_config", "client", "handshake", "raw", "running"]

"""End-to-end helpers: ``moltbot run``'s services and gateway in-process, on loopback, with the
fake OpenAI server as the model, and protocol clients holding chosen scopes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.client import ConnectOptions, GatewayClient, connect
from moltbot.gateway.server import Gateway
from moltbot.plugins import Plugins, load_plugins
from moltbot.runtime import run_gateway
from moltbot.testing.fake_openai import FakeOpenAI

TOKEN = "e2e-test-token-0123456789abcdefghijklmnopqrs"
DEADLINE = 30.0
"""Seconds any test here may take (``trio.fail_after``); a lost event or a hung wait fails."""


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    plugins = load_plugins()
    if "openai" not in plugins.model_providers() or "exec" not in plugins.tools():
        pytest.skip("moltbot-openai and moltbot-exec must be installed")
    return plugins


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeOpenAI:
    server = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(server.run)
    return server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def make_app(moltbot_home: Path, workspace: Path, plugins: Plugins, fake: FakeOpenAI) -> Callable[..., App]:
    def build(**exec_config: Any) -> App:
        env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
        paths = resolve_paths(env)
        config = {
            "agent": {"model": "openai/fake-model", "workspace": str(workspace)},
            "models": {
                "providers": {"openai": {"baseUrl": fake.base_url, "apiKey": "sk-test", "timeout": 5000}}
            },
            "tools": {"profile": "coding", "exec": {"allowlist": ["ls"], **exec_config}},
            "gateway": {"auth": {"mode": "token", "token": TOKEN}},
            "monitoring": {"enabled": False},
        }
        write_config(paths.config_path, config)
        return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)

    return build


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[Gateway]:
    """``run_gateway`` as ``moltbot run`` starts it: every service, then the gateway."""
    async with trio.open_nursery() as nursery:
        stop = trio.Event()
        gateway: Gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        yield gateway
        stop.set()


def client(gateway: Gateway, *scopes: str) -> Any:
    return connect(gateway.urls[0], ConnectOptions(token=TOKEN, scopes=list(scopes)))


async def send(c: GatewayClient, message: str, session: str = "main") -> dict[str, Any]:
    """``chat.send``; by default to the owner's main session (which is not sandboxed)."""
    params = {"sessionKey": session, "message": message, "idempotencyKey": secrets.token_hex(8)}
    return await c.call("chat.send", params)


async def final_reply(c: GatewayClient, run_id: str) -> dict[str, Any]:
    while True:
        frame = await c.wait_event("chat")
        payload = frame["payload"]
        if payload["runId"] == run_id and payload["state"] in ("final", "error", "aborted"):
            return payload

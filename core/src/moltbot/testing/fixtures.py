"""Opt-in pytest fixtures for plugin authors: ``pytest_plugins = ["moltbot.testing.fixtures"]``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from moltbot.plugins import Plugins
from moltbot.testing import make_plugins as _make_plugins
from moltbot.testing.http_receiver import HttpReceiver, serve_http_receiver


@pytest.fixture
def make_plugins() -> Callable[..., Plugins]:
    """Build a fresh :class:`Plugins` from inline hookimpls (no installed entry points)."""
    return _make_plugins


@pytest.fixture
def moltbot_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty state dir, with ``MOLTBOT_*`` variables pointing at it and legacy ones unset."""
    state = tmp_path / "state"
    monkeypatch.setenv("MOLTBOT_STATE_DIR", str(state))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in (
        "MOLTBOT_CONFIG_PATH",
        "CLAWDBOT_STATE_DIR",
        "MOLTBOT_GATEWAY_PASSWORD",
        "CLAWDBOT_GATEWAY_PASSWORD",
        "MOLTBOT_GATEWAY_TOKEN",
        "CLAWDBOT_GATEWAY_TOKEN",
        "MOLTBOT_GATEWAY_PORT",
        "CLAWDBOT_GATEWAY_PORT",
        "MOLTBOT_AGENT_MODEL",
        "CLAWDBOT_AGENT_MODEL",
        "MOLTBOT_GATEWAY_BIND",
        "CLAWDBOT_GATEWAY_BIND",
    ):
        monkeypatch.delenv(name, raising=False)
    yield state


@pytest.fixture
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    """A loopback HTTP receiver that records requests and can fail, throttle or stall."""
    async with serve_http_receiver() as receiver:
        yield receiver

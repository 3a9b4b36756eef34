"""WebChat page tests: a real gateway in-process (fake OpenAI model) and headless Chromium.

The app, the fake model and ``serving`` (``run_gateway`` on a free port) are the agent and
end-to-end tests' own helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from moltbot.gateway.server import Gateway
from moltbot.testing.fake_openai import FakeOpenAI

from ..agent.conftest import fake, make_app, model_config, plugins
from ..e2e.conftest import serving
from .cdp import CHROMIUM, Page, chromium

__all__ = ["fake", "make_app", "plugins", "serving"]

TOKEN = "webchat-test-token-0123456789abcdefghijklmnop"


def gateway_config(fake: FakeOpenAI, **gateway: Any) -> dict[str, Any]:
    return {
        **model_config(fake),
        "gateway": {"auth": {"mode": "token", "token": TOKEN}, **gateway},
        "monitoring": {"enabled": False},
    }


def http_url(gateway: Gateway) -> str:
    return gateway.urls[0].replace("ws", "http", 1)


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    """A headless Chromium tab; the browser's process group is killed afterwards. A test that
    made the page throw, log an error or violate its CSP fails here."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"headless Chromium not found at {CHROMIUM}: apt-get install chromium")
    async with chromium(tmp_path / "chromium-profile") as tab:
        yield tab
        # once a test's gateway has stopped, the still-open page retries and is refused: expected
        assert [p for p in tab.problems if "net::ERR_CONNECTION_REFUSED" not in p] == []

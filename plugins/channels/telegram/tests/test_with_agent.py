"""Telegram with the real agent runtime and the fake OpenAI model: a paired user's message is
answered by the model through the Bot API."""

from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.agent import AgentRuntime
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.plugins import load_plugins
from moltbot.sessions.service import SessionService
from moltbot.testing.fake_openai import FakeOpenAI, Reply

from .fake_telegram import FakeTelegram
from .harness import eventually, telegram_config


class Broadcasts:
    """Stands in for ``app.services["gateway"]``."""

    def broadcast(self, event: str, payload: dict[str, Any], *, scope: str | None = "operator.read") -> None:
        pass


async def test_model_reply_reaches_telegram(
    moltbot_home: Path, tmp_path: Path, nursery: trio.Nursery
) -> None:
    plugins = load_plugins()
    if "openai" not in plugins.model_providers() or "telegram" not in plugins.channels():
        pytest.skip("moltbot-openai or moltbot-telegram is not installed")
    model = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(model.run)
    telegram = FakeTelegram()
    await nursery.start(telegram.run)
    env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
    paths = resolve_paths(env)
    config = {
        "agent": {"model": "openai/fake-model", "workspace": str(tmp_path / "ws")},
        "models": {
            "providers": {"openai": {"baseUrl": model.base_url, "apiKey": "sk-test", "timeout": 5000}}
        },
        "tools": {"profile": "minimal"},
        "channels": {"telegram": telegram_config(telegram, dmPolicy="allowlist", allowFrom=["4242"])},
    }
    write_config(paths.config_path, config)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    app.services["gateway"] = Broadcasts()
    async with trio.open_nursery() as inner:
        for name, service in (
            ("sessions", SessionService(app)),
            ("agent", AgentRuntime(app)),
            ("channels", ChannelsService(app)),
        ):
            app.services[name] = service
            await inner.start(service.run)
        model.script(Reply(text="Bonjour from **the model** <3"))
        telegram.user_says("say hello", user_id=4242)
        await eventually(lambda: len(telegram.sent()) == 1, "the model's reply on Telegram", timeout=20)
        reply = telegram.sent()[0]
        assert reply["text"] == "Bonjour from <b>the model</b> &lt;3"
        assert "say hello" in str(model.requests[-1].body)
        inner.cancel_scope.cancel()

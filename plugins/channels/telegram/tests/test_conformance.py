"""The Telegram channel passes the channel conformance suite against the fake Bot API, receiving
by long polling and by webhook (the fake POSTs updates to the plugin's route)."""

from pathlib import Path

import pydantic
import pytest
import trio
from moltbot_telegram.channel import TelegramChannel
from moltbot_telegram.config import TelegramConfig

from moltbot.testing import build_context
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance

from .fake_telegram import TOKEN, FakeTelegram
from .harness import serve_webhook_route, telegram_config, webhook_config


class TestTelegramConformance(ChatChannelConformance):
    @pytest.fixture(params=["polling", "webhook"])
    async def harness(
        self, request: pytest.FixtureRequest, tmp_path: Path, nursery: trio.Nursery
    ) -> ChannelHarness:
        fake = FakeTelegram()
        await nursery.start(fake.run)
        if request.param == "webhook":
            fake.tunnel = await serve_webhook_route(nursery)
            raw = webhook_config(fake)
        else:
            raw = telegram_config(fake)
        channel = TelegramChannel(TelegramConfig.model_validate(raw), build_context(tmp_path, "telegram"))

        async def inject(text: str, sender: str) -> None:
            fake.user_says(text, user_id=int(sender))

        async def delivered() -> list[str]:
            return [p["text"] for p in fake.sent()]

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target="4242")


def test_bot_token_is_required() -> None:
    with pytest.raises(pydantic.ValidationError):
        TelegramConfig.model_validate({"dmPolicy": "open"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mode": "webhook"}, "mode 'webhook' needs webhookUrl and webhookSecret"),
        ({"mode": "webhook", "webhookUrl": "https://x.test/webhooks/telegram"}, "needs webhookSecret"),
        ({"webhookSecret": "has spaces in it"}, "1-256 characters of A-Z, a-z, 0-9"),
        ({"webhookSecret": "x" * 257}, "1-256 characters"),
        ({"webhookUrl": "molt.example.test/webhooks/telegram"}, "public https:// URL"),
    ],
)
def test_webhook_settings_are_checked(extra: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        TelegramConfig.model_validate({"botToken": TOKEN, **extra})


def test_defaults_poll_and_download() -> None:
    config = TelegramConfig.model_validate({"botToken": TOKEN, "webhookSecret": "A-z_09"})
    assert config.mode == "polling" and config.download_media and config.webhook_secret == "A-z_09"

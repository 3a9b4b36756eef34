"""The Telegram channel passes the channel conformance suite against the fake Bot API."""

from pathlib import Path

import pytest
import trio
from moltbot_telegram.channel import TelegramChannel
from moltbot_telegram.config import TelegramConfig

from moltbot.testing import build_context
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance

from .fake_telegram import TOKEN, FakeTelegram


class TestTelegramConformance(ChatChannelConformance):
    @pytest.fixture
    async def harness(self, tmp_path: Path, nursery: trio.Nursery) -> ChannelHarness:
        fake = FakeTelegram()
        await nursery.start(fake.run)
        config = TelegramConfig.model_validate(
            {"botToken": TOKEN, "apiBaseUrl": fake.base_url, "pollTimeout": 1000}
        )
        channel = TelegramChannel(config, build_context(tmp_path, "telegram"))

        async def inject(text: str, sender: str) -> None:
            fake.user_says(text, user_id=int(sender))

        async def delivered() -> list[str]:
            return [p["text"] for p in fake.sent()]

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target="4242")


def test_bot_token_is_required() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        TelegramConfig.model_validate({"dmPolicy": "open"})

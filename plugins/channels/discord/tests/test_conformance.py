"""The Discord channel passes the channel conformance suite against the fake Discord (a DM in
over the Gateway, a reply out over REST to a user id, which opens the DM channel)."""

from pathlib import Path

import pydantic
import pytest
import trio
from moltbot_discord.config import DEFAULT_INTENTS, DiscordConfig

from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance

from .fake_discord import TOKEN
from .harness import channel_for, started_fake


class TestDiscordConformance(ChatChannelConformance):
    @pytest.fixture
    async def harness(self, tmp_path: Path, nursery: trio.Nursery) -> ChannelHarness:
        fake = await started_fake(nursery)
        channel = channel_for(fake, tmp_path)

        async def inject(text: str, sender: str) -> None:
            fake.dm(text, user_id=sender)

        async def delivered() -> list[str]:
            return fake.sent()

        fake.user("4242")
        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target="4242")


def test_bot_token_is_required() -> None:
    with pytest.raises(pydantic.ValidationError, match="botToken"):
        DiscordConfig.model_validate({"dmPolicy": "open"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"botToken": f"Bot {TOKEN}"}, "without the 'Bot ' prefix"),
        ({"apiBaseUrl": "discord.com/api/v10"}, "http"),
        ({"intents": -1}, "greater than or equal to 0"),
    ],
)
def test_settings_are_checked(extra: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        DiscordConfig.model_validate({"botToken": TOKEN, **extra})


def test_defaults() -> None:
    config = DiscordConfig.model_validate({"botToken": TOKEN, "apiBaseUrl": "http://127.0.0.1:9/api/v10/"})
    assert config.intents == DEFAULT_INTENTS == (1 << 9) | (1 << 12) | (1 << 15)
    assert config.download_media and config.gateway_url is None
    assert config.api_base_url == "http://127.0.0.1:9/api/v10"

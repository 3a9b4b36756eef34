"""The echo channel passes the channel conformance suite, and applies its prefix."""

from pathlib import Path

import pytest
from moltbot_echo.channel import EchoChannel, EchoConfig

from moltbot.testing import build_context
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance


def make(tmp_path: Path, **config: str) -> EchoChannel:
    return EchoChannel(EchoConfig(**config), build_context(tmp_path, "echo"))


class TestEchoConformance(ChatChannelConformance):
    @pytest.fixture
    async def harness(self, tmp_path: Path) -> ChannelHarness:
        channel = make(tmp_path)

        async def delivered() -> list[str]:
            return [m.text for m in channel.outbox]

        return ChannelHarness(channel=channel, inject=channel.inject, delivered=delivered)


async def test_prefix_is_prepended(tmp_path: Path) -> None:
    import moltbot

    channel = make(tmp_path, prefix="[echo] ")
    await channel.send(moltbot.OutboundMessage(channel="echo", target="u", text="hi"))
    assert channel.outbox[0].text == "[echo] hi"


def test_unknown_config_key_is_rejected() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        EchoConfig.model_validate({"prefx": "x"})

"""The WhatsApp channel passes the channel conformance suite against the fake Cloud API."""

import json
from pathlib import Path

import pytest
import trio
from moltbot_whatsapp.channel import WhatsAppChannel, signature_ok
from moltbot_whatsapp.config import WhatsAppConfig
from moltbot_whatsapp.routes import deliver

from moltbot.testing import build_context
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance

from .fake_whatsapp import APP_SECRET, USER, FakeWhatsApp, sign
from .harness import whatsapp_config


class TestWhatsAppConformance(ChatChannelConformance):
    @pytest.fixture
    async def harness(self, tmp_path: Path, nursery: trio.Nursery) -> ChannelHarness:
        fake = FakeWhatsApp()
        await nursery.start(fake.run)
        channel = WhatsAppChannel(
            WhatsAppConfig.model_validate(whatsapp_config(fake)), build_context(tmp_path, "whatsapp")
        )

        async def inject(text: str, sender: str) -> None:
            body = json.dumps(fake.text(text, sender=sender)).encode()
            response = deliver(body, {"x-hub-signature-256": sign(body)}, {"default": channel})
            assert response.status_code == 200

        async def delivered() -> list[str]:
            return [b["text"]["body"] for b in fake.sent() if b["type"] == "text"]

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target=USER)


def test_signature_check() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert signature_ok(APP_SECRET, body, sign(body))
    assert not signature_ok(APP_SECRET, body + b" ", sign(body))
    assert not signature_ok(APP_SECRET, body, sign(body).removeprefix("sha256="))
    assert not signature_ok(APP_SECRET, body, None)


def test_config_requires_the_credentials() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        WhatsAppConfig.model_validate({"accessToken": "EAAGxxxxxxxxxx", "phoneNumberId": "not-a-number"})

"""The real ``moltbot run`` process with the WhatsApp plugin: Meta's (fake) webhook sender
posts to the gateway's port, the fake OpenAI model answers, the reply reaches the fake Graph API."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from moltbot.plugins import load_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply
from moltbot.testing.process import gateway_process, write_state

from .fake_whatsapp import USER, FakeWhatsApp
from .harness import eventually, whatsapp_config


async def test_webhook_to_model_to_graph_api(tmp_path: Path, nursery: trio.Nursery) -> None:
    if "openai" not in load_plugins().model_providers():
        pytest.skip("moltbot-openai is not installed")
    model = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(model.run)
    meta = FakeWhatsApp()
    await nursery.start(meta.run)
    state = write_state(tmp_path, model.base_url, {"whatsapp": whatsapp_config(meta, allowFrom=[f"+{USER}"])})
    async with gateway_process(state) as gateway:
        url = gateway.http_url + "/webhooks/whatsapp"
        with trio.fail_after(10):
            while (await meta.verify(url)).status_code != 200:  # 503 until the channel runs
                await trio.sleep(0.05)
        model.script(Reply(text="Hello from the model"))
        payload = meta.text("hi from my phone")
        assert (await meta.deliver(url, payload)).status_code == 200
        assert (await meta.deliver(url, payload)).status_code == 200  # a redelivery
        await eventually(lambda: len(meta.sent()) == 1, "the model's reply", timeout=20)
        await trio.sleep(0.3)
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert meta.sent() == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": USER,
            "type": "text",
            "text": {"preview_url": False, "body": "Hello from the model"},
            "context": {"message_id": wamid},
        }
    ]
    assert len(model.requests) == 1

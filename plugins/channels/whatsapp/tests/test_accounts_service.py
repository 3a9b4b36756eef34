"""Two accounts configured under ``channels.whatsapp.accounts`` run through the channels
service and the gateway's port: each number's messages are answered from that number."""

from __future__ import annotations

from pathlib import Path

import trio

from .fake_whatsapp import APP_SECRET, PHONE_NUMBER_ID, USER, FakeWhatsApp
from .harness import eventually, stack, whatsapp_config
from .test_accounts import SUPPORT_NUMBER, SUPPORT_SECRET, SUPPORT_TOKEN


async def test_each_account_answers_from_its_own_number(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    fake.add_number(SUPPORT_NUMBER, SUPPORT_TOKEN)
    config = whatsapp_config(fake, dmPolicy="open", allowFrom=["*"])
    config["accounts"] = {
        "sales": {},
        "support": {
            "phoneNumberId": SUPPORT_NUMBER,
            "accessToken": SUPPORT_TOKEN,
            "appSecret": SUPPORT_SECRET,
        },
    }
    async with stack(moltbot_home, config) as s:
        channels = s.service.status()["channels"]
        await eventually(
            lambda: all(s.service.status()["channels"][n]["state"] == "running" for n in channels),
            "both accounts running",
        )
        assert {"whatsapp:sales", "whatsapp:support"} <= set(channels)
        to_support = fake.text("support please", phone_number_id=SUPPORT_NUMBER)
        assert (await fake.deliver(s.webhook_url, to_support, secret=SUPPORT_SECRET)).status_code == 200
        assert (
            await fake.deliver(s.webhook_url, fake.text("sales please"), secret=APP_SECRET)
        ).status_code == 200
        await eventually(lambda: len(fake.sent()) == 2, "two replies")
        replies = {path: body["text"]["body"] for path, body in fake.calls if "text" in body}
        assert replies == {
            f"/v21.0/{SUPPORT_NUMBER}/messages": "echo: support please",
            f"/v21.0/{PHONE_NUMBER_ID}/messages": "echo: sales please",
        }
        assert {(c.origin.account, c.origin.chat_id) for c in s.agent.calls if c.origin} == {
            ("sales", USER),
            ("support", USER),
        }

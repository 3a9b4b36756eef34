"""Two business numbers (accounts) behind the one ``/webhooks/whatsapp`` URL: the route checks
the signature under each account's app secret and hands every change to the account whose
phone number id it is addressed to."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import moltbot_whatsapp
import trio
from moltbot_whatsapp.routes import webhook
from starlette.applications import Starlette
from starlette.routing import Route

import moltbot
from moltbot.channels import webhooks

from .fake_whatsapp import APP_SECRET, PHONE_NUMBER_ID, USER, VERIFY_TOKEN, FakeWhatsApp, sign
from .harness import build_channel, next_message, running

SUPPORT_NUMBER = "209876543210987"
SUPPORT_TOKEN = "EAAGsupportaccountstoken9876543"
SUPPORT_SECRET = "fedcba9876543210fedcba9876543210"
SUPPORT_VERIFY = "support-verify-token-7"
STANDBY_NUMBER = "300000000000003"

Inbox = trio.MemoryReceiveChannel[moltbot.InboundMessage]


@asynccontextmanager
async def two_accounts(tmp_path: Path) -> AsyncIterator[tuple[FakeWhatsApp, httpx.AsyncClient, Inbox, Inbox]]:
    """The fake with two numbers, both accounts running, and a client for the real route."""
    async with trio.open_nursery() as nursery:
        fake = FakeWhatsApp()
        await nursery.start(fake.run)
        fake.add_number(SUPPORT_NUMBER, SUPPORT_TOKEN)
        settings = {  # what the channels service reads the accounts from
            "channels": {
                "whatsapp": {
                    "phoneNumberId": PHONE_NUMBER_ID,
                    "accounts": {
                        "default": {},
                        "support": {"phoneNumberId": SUPPORT_NUMBER},
                        "standby": {"phoneNumberId": STANDBY_NUMBER},
                        "retired": {"phoneNumberId": "400000000000004", "enabled": False},
                    },
                }
            }
        }
        default = build_channel(fake, tmp_path / "ws", settings=settings)
        support = build_channel(
            fake,
            tmp_path / "ws",
            "support",
            settings=settings,
            phoneNumberId=SUPPORT_NUMBER,
            accessToken=SUPPORT_TOKEN,
            appSecret=SUPPORT_SECRET,
            verifyToken=SUPPORT_VERIFY,
        )
        app = Starlette(routes=[Route(moltbot_whatsapp.WEBHOOK_PATH, webhook, methods=["GET", "POST"])])
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="https://gateway.test") as client,
            running(default) as default_inbox,
            running(support) as support_inbox,
        ):
            yield fake, client, default_inbox, support_inbox
        nursery.cancel_scope.cancel()


async def post(client: httpx.AsyncClient, payload: dict[str, Any], secret: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)}
    return await client.post(moltbot_whatsapp.WEBHOOK_PATH, content=body, headers=headers)


async def verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token}
    return await client.get(moltbot_whatsapp.WEBHOOK_PATH, params=params)


async def test_each_change_reaches_the_account_it_is_addressed_to(tmp_path: Path) -> None:
    async with two_accounts(tmp_path) as (fake, client, default_inbox, support_inbox):
        to_support = fake.text("need help", phone_number_id=SUPPORT_NUMBER)
        assert (await post(client, to_support, SUPPORT_SECRET)).status_code == 200
        assert (await post(client, fake.text("hello main"), APP_SECRET)).status_code == 200
        main, help_ = await next_message(default_inbox), await next_message(support_inbox)
        assert (main.account, main.text) == ("default", "hello main")
        assert (help_.account, help_.text, help_.channel) == ("support", "need help", "whatsapp")
        # the reply goes out from the support number with the support token
        await webhooks.receiver("whatsapp", "support").send(
            moltbot.OutboundMessage(channel="whatsapp", account="support", target=USER, text="on it")
        )
        assert fake.calls[-1][0] == f"/v21.0/{SUPPORT_NUMBER}/messages"


async def test_a_change_signed_with_another_accounts_secret_is_dropped(
    tmp_path: Path, log_lines: list[str]
) -> None:
    async with two_accounts(tmp_path) as (fake, client, default_inbox, support_inbox):
        both = fake.text("for main", phone_number_id=PHONE_NUMBER_ID)
        both["entry"].append(fake.text("sneaky", phone_number_id=SUPPORT_NUMBER)["entry"][0])
        assert (await post(client, both, APP_SECRET)).status_code == 200  # acknowledged, not retried
        assert (await next_message(default_inbox)).text == "for main"
        honest = fake.text("signed right", phone_number_id=SUPPORT_NUMBER)
        assert (await post(client, honest, SUPPORT_SECRET)).status_code == 200
        assert (await next_message(support_inbox)).text == "signed right"  # "sneaky" never arrived
    assert any(f"phone number id {SUPPORT_NUMBER} was not signed" in line for line in log_lines)


async def test_unknown_standby_and_unsigned_deliveries(tmp_path: Path, log_lines: list[str]) -> None:
    async with two_accounts(tmp_path) as (fake, client, default_inbox, _):
        unknown = fake.text("who?", phone_number_id="555555555555555")
        assert (await post(client, unknown, APP_SECRET)).status_code == 200
        retired = fake.text("old number", phone_number_id="400000000000004")
        assert (await post(client, retired, APP_SECRET)).status_code == 200
        standby = fake.text("wait for me", phone_number_id=STANDBY_NUMBER)
        assert (await post(client, standby, APP_SECRET)).status_code == 503  # configured, not running
        assert (await post(client, fake.text("x"), "not-any-accounts-secret")).status_code == 403
        body = json.dumps(fake.text("x")).encode()
        assert (await client.post(moltbot_whatsapp.WEBHOOK_PATH, content=body)).status_code == 401
        garbage = b'{"object": "page"}'
        assert (
            await client.post(
                moltbot_whatsapp.WEBHOOK_PATH, content=garbage, headers={"X-Hub-Signature-256": sign(garbage)}
            )
        ).status_code == 400
        assert (await post(client, fake.text("after all that"), APP_SECRET)).status_code == 200
        assert (await next_message(default_inbox)).text == "after all that"
    assert any("555555555555555 matches no configured account" in line for line in log_lines)
    assert any("400000000000004 matches no configured account" in line for line in log_lines)


async def test_verification_accepts_any_running_accounts_token(tmp_path: Path) -> None:
    async with two_accounts(tmp_path) as (_, client, _default, _support):
        for token in (VERIFY_TOKEN, SUPPORT_VERIFY):
            ok = await verify(client, token)
            assert (ok.status_code, ok.text) == (200, "1158201444")
        assert (await verify(client, "wrong-token-123")).status_code == 403
    # no account running any more: Meta is told to come back later
    app = Starlette(routes=[Route("/w", webhook, methods=["GET", "POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://g.test") as client:
        assert (await client.get("/w", params={"hub.verify_token": VERIFY_TOKEN})).status_code == 503

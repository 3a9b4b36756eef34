"""Running the Telegram plugin against the fake Bot API: the channels service with the gateway
(for its HTTP port and the webhook route) and the echo agent, or just the webhook route."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moltbot_telegram
import trio
from moltbot_telegram.routes import webhook
from starlette.applications import Starlette
from starlette.routing import Route

from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent, echo_stack
from moltbot.channels.testing import eventually as eventually
from moltbot.testing.loopback import serve_app

from .fake_telegram import FakeTelegram

SECRET = f"s3cr3t_Webhook-{secrets.token_hex(8)}"
"""Random per process: the fake's webhook sender retries a dead gateway's port, which another
test run on this machine may have taken; a shared secret would let that gateway accept it."""
PUBLIC_URL = "https://molt.tail1234.ts.net/webhooks/telegram"


def telegram_config(fake: FakeTelegram, **extra: Any) -> dict[str, Any]:
    return {"botToken": fake.token, "apiBaseUrl": fake.base_url, "pollTimeout": 1000, **extra}


def webhook_config(fake: FakeTelegram, **extra: Any) -> dict[str, Any]:
    return telegram_config(
        fake, **{"mode": "webhook", "webhookUrl": PUBLIC_URL, "webhookSecret": SECRET, **extra}
    )


@dataclass
class Stack:
    app: App
    service: ChannelsService
    agent: EchoAgent
    webhook_url: str
    """The gateway's own ``/webhooks/telegram`` (where the public URL leads)."""

    def state(self) -> str:
        return self.service.status()["channels"]["telegram"]["state"]


@asynccontextmanager
async def stack(state: Path, telegram: dict[str, Any], **service: Any) -> AsyncIterator[Stack]:
    async with echo_stack(
        state,
        {"telegram": telegram},
        moltbot_telegram.moltbot_register_channels,
        moltbot_telegram.moltbot_register_http_routes,
        **service,
    ) as s:
        yield Stack(s.app, s.service, s.agent, s.http_url + moltbot_telegram.WEBHOOK_PATH)


async def serve_webhook_route(nursery: trio.Nursery) -> str:
    """Only the plugin's webhook route on a loopback port (no gateway); its URL."""
    app = Starlette(routes=[Route(moltbot_telegram.WEBHOOK_PATH, webhook, methods=["POST"])])
    return await nursery.start(serve_app, app) + moltbot_telegram.WEBHOOK_PATH

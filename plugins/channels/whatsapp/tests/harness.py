"""The gateway (for its HTTP port), the channels service with the WhatsApp plugin, the echo
agent, and the fake Cloud API, all in one trio run; and, for channel-level tests, one account's
channel running on its own with its inbox in the test's hands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import moltbot_whatsapp
import trio
from moltbot_whatsapp.channel import WhatsAppChannel
from moltbot_whatsapp.config import WhatsAppConfig

import moltbot
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent, echo_stack
from moltbot.channels.testing import eventually as eventually
from moltbot.config import Settings
from moltbot.testing import build_context

from .fake_whatsapp import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, FakeWhatsApp


def whatsapp_config(fake: FakeWhatsApp, **extra: Any) -> dict[str, Any]:
    return {
        "accessToken": ACCESS_TOKEN,
        "phoneNumberId": PHONE_NUMBER_ID,
        "appSecret": APP_SECRET,
        "verifyToken": VERIFY_TOKEN,
        "graphBaseUrl": fake.base_url,
        "retryBase": 50,
        **extra,
    }


@dataclass
class Stack:
    app: App
    service: ChannelsService
    agent: EchoAgent
    webhook_url: str

    def state(self) -> str:
        return self.service.status()["channels"]["whatsapp"]["state"]


@asynccontextmanager
async def stack(state: Path, whatsapp: dict[str, Any], **service: Any) -> AsyncIterator[Stack]:
    async with echo_stack(
        state,
        {"whatsapp": whatsapp},
        moltbot_whatsapp.moltbot_register_channels,
        moltbot_whatsapp.moltbot_register_http_routes,
        **service,
    ) as s:
        yield Stack(s.app, s.service, s.agent, s.http_url + moltbot_whatsapp.WEBHOOK_PATH)


def build_channel(
    fake: FakeWhatsApp,
    workspace: Path,
    account: str = "default",
    *,
    settings: dict[str, Any] | None = None,
    **extra: Any,
) -> WhatsAppChannel:
    """One account's channel whose downloads land in ``workspace``."""
    whole = Settings.model_validate({"agent": {"workspace": str(workspace)}, **(settings or {})})
    ctx = replace(build_context(workspace.parent, "whatsapp", whole), account=account)
    return WhatsAppChannel(WhatsAppConfig.model_validate(whatsapp_config(fake, **extra)), ctx)


@asynccontextmanager
async def running(
    channel: WhatsAppChannel,
) -> AsyncIterator[trio.MemoryReceiveChannel[moltbot.InboundMessage]]:
    """``channel.run`` in the background; yields the inbox it forwards to."""
    send, receive = trio.open_memory_channel[moltbot.InboundMessage](16)
    async with trio.open_nursery() as nursery:
        await nursery.start(channel.run, send)
        yield receive
        nursery.cancel_scope.cancel()


async def next_message(inbox: trio.MemoryReceiveChannel[moltbot.InboundMessage]) -> moltbot.InboundMessage:
    with trio.fail_after(10):
        return await inbox.receive()

"""Running the Slack plugin against the fake Slack: the channels service with the gateway (for
its HTTP port and the Events API route) and the echo agent; or one account's channel on its
own with its inbox in the test's hands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import moltbot_slack
import trio
from moltbot_slack.channel import SlackChannel
from moltbot_slack.config import SlackConfig

import moltbot
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent, echo_stack
from moltbot.channels.testing import eventually as eventually
from moltbot.config import Settings
from moltbot.testing import build_context

from .fake_slack import FakeSlack


def slack_config(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    """Socket Mode against ``fake``."""
    return {
        "botToken": fake.bot_token,
        "appToken": fake.app_token,
        "apiBaseUrl": fake.base_url,
        "requestTimeout": 5000,
        **extra,
    }


def http_config(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    """Events API over HTTP against ``fake``."""
    return {
        "mode": "http",
        "botToken": fake.bot_token,
        "signingSecret": fake.signing_secret,
        "apiBaseUrl": fake.base_url,
        "requestTimeout": 5000,
        **extra,
    }


@dataclass
class Stack:
    app: App
    service: ChannelsService
    agent: EchoAgent
    webhook_url: str
    """The gateway's own ``/webhooks/slack``."""

    def state(self, name: str = "slack") -> str:
        return self.service.status()["channels"][name]["state"]

    def status(self, name: str = "slack") -> dict[str, Any]:
        return self.service.status()["channels"][name]


@asynccontextmanager
async def stack(state: Path, slack: dict[str, Any], **service: Any) -> AsyncIterator[Stack]:
    async with echo_stack(
        state,
        {"slack": slack},
        moltbot_slack.moltbot_register_channels,
        moltbot_slack.moltbot_register_http_routes,
        **service,
    ) as s:
        yield Stack(s.app, s.service, s.agent, s.http_url + moltbot_slack.WEBHOOK_PATH)


def build_channel(fake: FakeSlack, workspace: Path, account: str = "default", **extra: Any) -> SlackChannel:
    """One account's channel (Socket Mode unless ``extra`` says otherwise) whose downloads land
    in ``workspace``."""
    whole = Settings.model_validate({"agent": {"workspace": str(workspace)}})
    ctx = replace(build_context(workspace.parent / f"state-{account}", "slack", whole), account=account)
    return SlackChannel(SlackConfig.model_validate(slack_config(fake, **extra)), ctx)


@asynccontextmanager
async def running(channel: SlackChannel) -> AsyncIterator[trio.MemoryReceiveChannel[moltbot.InboundMessage]]:
    """``channel.run`` in the background; yields the inbox it forwards to."""
    send, receive = trio.open_memory_channel[moltbot.InboundMessage](16)
    async with trio.open_nursery() as nursery:
        await nursery.start(channel.run, send)
        yield receive
        nursery.cancel_scope.cancel()


async def next_message(inbox: trio.MemoryReceiveChannel[moltbot.InboundMessage]) -> moltbot.InboundMessage:
    with trio.fail_after(8):
        return await inbox.receive()

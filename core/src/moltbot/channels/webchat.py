"""WebChat: the gateway's own chat (``chat.send`` in, ``chat`` events out) as a channel.

A ``chat.send`` request becomes an :class:`InboundMessage` that goes through the same router as
a Telegram or WhatsApp message: dedupe, the access policy of ``channels.webchat`` (``open`` by
default, because every WebChat client already passed the gateway's auth), pairing, the agent.
The message names its session (``sessionKey``) and its run id (the client's ``idempotencyKey``,
as in OpenClaw, so the client can match the run's events before its request is answered).

The agent's reply reaches WebChat clients as the run's own ``chat`` events; :meth:`send` is for
everything else said to a WebChat session (pairing codes, ``send``, alerts): a ``chat`` event
in the same shape, with ``state: "final"``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

import trio
from pydantic import Field

from moltbot.agent.events import chat_message
from moltbot.config.model import ChannelConfig
from moltbot.interfaces.channel import (
    ChannelCapabilities,
    ChatChannel,
    InboundMessage,
    OutboundMessage,
)
from moltbot.specs import BuildContext


class WebChatConfig(ChannelConfig):
    """``channels.webchat``: optional; WebChat runs with these defaults without a section."""

    dm_policy: Literal["pairing", "allowlist", "open", "disabled"] = "open"
    allow_from: list[str] = Field(default_factory=lambda: ["*"])


class WebChatUnavailable(RuntimeError):
    """WebChat is not running (gateway starting or stopping, or ``channels.webchat.enabled`` off)."""


class WebChatChannel(ChatChannel):
    """One per gateway process; see the module docstring."""

    capabilities = ChannelCapabilities(text_limit=100_000, formatting="markdown", live_events=True)

    def __init__(self, config: WebChatConfig, ctx: BuildContext) -> None:
        self.name = ctx.name
        self.account = ctx.account
        self._emit = ctx.emit
        self._inbox: trio.MemorySendChannel[InboundMessage] | None = None

    async def run(
        self,
        inbox: trio.MemorySendChannel[InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self._inbox = inbox
        try:
            task_status.started()
            await trio.sleep_forever()
        finally:
            self._inbox = None

    async def post(
        self, *, text: str, session_key: str, sender: str, run_id: str, sender_name: str | None = None
    ) -> InboundMessage:
        """Hand a client's message to the router (``chat.send``); raises
        :class:`WebChatUnavailable` when WebChat is not running."""
        if self._inbox is None:
            raise WebChatUnavailable("webchat is not running (is channels.webchat.enabled false?)")
        message = InboundMessage(
            channel=self.name,
            account=self.account,
            sender=sender,
            sender_name=sender_name,
            chat_id=session_key,
            text=text,
            message_id=run_id,
            timestamp=datetime.now(UTC),
            session_key=session_key,
            run_id=run_id,
        )
        await self._inbox.send(message)
        return message

    async def send(self, message: OutboundMessage) -> str:
        """Show ``message`` in the WebChat session ``message.target`` as a finished reply."""
        if not message.text:
            raise ValueError("webchat can only show text; this message has none")
        message_id = message.idempotency_key or str(uuid.uuid4())
        agent_id = message.target.split(":")[1] if message.target.startswith("agent:") else "main"
        self._emit(
            "chat",
            {
                "runId": message_id,
                "sessionKey": message.target,
                "agentId": agent_id,
                "seq": 1,
                "state": "final",
                "message": chat_message(message.text),
            },
        )
        return message_id

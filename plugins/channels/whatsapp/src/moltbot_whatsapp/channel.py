"""The WhatsApp Cloud API channel (one business phone number = one account): signed webhooks
in, Graph API ``/messages`` out.

``run`` checks the token against the phone number (code 190 stops the channel), registers the
account for the webhook route (:mod:`moltbot_whatsapp.routes` verifies signatures and hands
each change to the account it is addressed to, via :meth:`accept`), then forwards accepted
messages to the inbox, downloading their media first: off the webhook's response path, so
Meta gets its 200 at once. Because Meta never redelivers what got its 200, :meth:`accept`
journals each message in the account's state directory before answering, and ``run`` forwards
what a crash or restart left there first (the router's dedupe drops any it had already seen).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import httpx
import trio
from loguru import logger

import moltbot
from moltbot.channels import webhooks
from moltbot.channels.journal import InboundJournal
from moltbot.channels.sent import SentMessages
from moltbot_whatsapp import media
from moltbot_whatsapp.config import WhatsAppConfig
from moltbot_whatsapp.graph import Graph
from moltbot_whatsapp.normalize import Received, Status, attachment_of, parse_change


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``sha256=<hex>``) is the HMAC-SHA256 of ``body`` under ``secret``."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def is_phone_number(target: str) -> bool:
    """Phone numbers / WhatsApp ids are digits; Groups API ids are base64-like strings."""
    return target.lstrip("+").isdigit()


class WhatsAppChannel(moltbot.ChatChannel):
    """One business phone number."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=4096,
        formatting="markdown",
        media_kinds=frozenset({"image", "document", "audio", "video"}),
        reactions=True,
        typing=True,
        groups=True,
    )

    def __init__(self, config: WhatsAppConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.account = ctx.account
        self.settings = ctx.settings
        self.config = config
        self.statuses: OrderedDict[str, Status] = OrderedDict()
        self._last_inbound: dict[str, str] = {}
        self._sent = SentMessages()
        self._queue_send, self._queue_recv = trio.open_memory_channel[Received](256)
        self._journal = InboundJournal(ctx.state_dir / "accepted.log")
        self._queued: set[str] = set()

    def _graph(self, http: httpx.AsyncClient) -> Graph:
        c = self.config
        return Graph(
            http,
            c.graph_base_url,
            c.api_version,
            c.access_token,
            timeout=c.request_timeout / 1000,
            retry_base=c.retry_base / 1000,
        )

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with httpx.AsyncClient() as http:
            graph = self._graph(http)
            phone = await graph.request(
                "GET", self.config.phone_number_id, params={"fields": "display_phone_number,verified_name"}
            )
            logger.info(
                "whatsapp ({}): receiving for {} ({})",
                self.account,
                phone.get("display_phone_number"),
                phone.get("verified_name"),
            )
            with webhooks.serving(self.name, self, self.account):
                task_status.started()
                for _, message in self._journal.pending():
                    if message.message_id not in self._queued:  # else it is still in the queue
                        await self._forward(inbox, http, graph, Received(message, attachment_of(message)))
                async for item in self._queue_recv:
                    self._queued.discard(item.message.message_id)
                    await self._forward(inbox, http, graph, item)

    async def _forward(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        http: httpx.AsyncClient,
        graph: Graph,
        item: Received,
    ) -> None:
        await inbox.send(await self._complete(http, graph, item))
        self._journal.done(item.message.message_id)

    async def _complete(
        self, http: httpx.AsyncClient, graph: Graph, item: Received
    ) -> moltbot.InboundMessage:
        """The message with its attachment stored in the workspace (or a note why not)."""
        message = item.message
        if item.attachment is None or not self.config.download_media:
            return message
        stored = await media.store(
            http,
            graph,
            item.attachment,
            settings=self.settings,
            channel=self.name,
            timeout=self.config.media_timeout / 1000,
        )
        if stored.ref is not None:
            return replace(message, media=(replace(message.media[0], ref=stored.ref),))
        text = "\n".join(part for part in (message.text, stored.note) if part)
        return replace(message, text=text, media=(replace(message.media[0], caption=None),))

    # ------------------------------------------------------------ webhook side

    @property
    def phone_number_id(self) -> str:
        return self.config.phone_number_id

    def verify_token_ok(self, token: str) -> bool:
        """Whether ``token`` is this account's webhook verify token (constant time)."""
        return hmac.compare_digest(token.encode(), self.config.verify_token.encode())

    def signed(self, body: bytes, header: str | None) -> bool:
        """Whether ``body`` carries a valid ``X-Hub-Signature-256`` under this account's app secret."""
        return signature_ok(self.config.app_secret, body, header)

    def accept(self, value: dict[str, Any]) -> bool:
        """Queue one ``messages`` change addressed to this account and record its statuses;
        False when the queue is full (the route answers 503 so Meta delivers again)."""
        received, statuses = parse_change(value, channel=self.name, account=self.account)
        for status in statuses:
            self._record(status)
        for item in received:
            self._journal.add(item.message.message_id, item.message)
            try:
                self._queue_send.send_nowait(item)
            except trio.WouldBlock:
                return False  # the journal entry stays: the next run forwards it
            self._queued.add(item.message.message_id)
            if item.message.chat_type == "dm":
                self._last_inbound[item.message.chat_id] = item.message.message_id
        return True

    def _record(self, status: Status) -> None:
        self.statuses[status.message_id] = status
        while len(self.statuses) > 1000:
            self.statuses.popitem(last=False)
        if status.status == "failed":
            logger.warning(
                "whatsapp: message {} to {} failed: {}",
                status.message_id,
                status.recipient,
                "; ".join(status.errors) or "no reason given",
            )

    # ------------------------------------------------------------ sending

    def _payload(self, message: moltbot.OutboundMessage, media: moltbot.Media | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual" if is_phone_number(message.target) else "group",
            "to": message.target,
        }
        if media is None:
            body.update(type="text", text={"preview_url": False, "body": message.text})
        else:
            kind = media.kind if media.kind in ("image", "audio", "video") else "document"
            item: dict[str, Any] = {"link": media.ref} if "://" in media.ref else {"id": media.ref}
            if media.caption and kind != "audio":
                item["caption"] = media.caption
            body.update(type=kind, **{kind: item})
        if message.reply_to:
            body["context"] = {"message_id": message.reply_to}
        return body

    async def send(self, message: moltbot.OutboundMessage) -> str:
        key = message.idempotency_key
        if (earlier := self._sent.get(key)) is not None:
            return earlier
        parts: list[moltbot.Media | None] = [*message.media]
        if message.text:
            parts.append(None)
        if not parts:
            raise ValueError("an outbound WhatsApp message needs text or media")
        path = f"{self.config.phone_number_id}/messages"
        async with httpx.AsyncClient() as http:
            graph = self._graph(http)
            for part in parts:
                result = await graph.request("POST", path, self._payload(message, part))
                sent = str(result["messages"][0]["id"])
        self._sent.remember(key, sent)
        return sent

    async def set_typing(self, target: str) -> None:
        """Mark the sender's last message read and show "typing…" (dismissed on reply or 25 s)."""
        message_id = self._last_inbound.get(target)
        if message_id is None:
            return
        body = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
            "typing_indicator": {"type": "text"},
        }
        async with httpx.AsyncClient() as http:
            await self._graph(http).request("POST", f"{self.config.phone_number_id}/messages", body)

"""The WhatsApp Cloud API channel: signed webhooks in, Graph API ``/messages`` out.

``run`` checks the token against the phone number (code 190 stops the channel), registers the
channel for the webhook route, and forwards what :meth:`receive` accepted to the inbox.
:meth:`receive` verifies ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app
secret, constant-time compare) before parsing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import httpx
import trio
from loguru import logger
from starlette.responses import PlainTextResponse, Response

import moltbot
from moltbot.channels import webhooks
from moltbot_whatsapp.config import WhatsAppConfig
from moltbot_whatsapp.graph import Graph
from moltbot_whatsapp.normalize import Status, parse_delivery


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``sha256=<hex>``) is the HMAC-SHA256 of ``body`` under ``secret``."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


class WhatsAppChannel(moltbot.ChatChannel):
    """One business phone number."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=4096,
        formatting="markdown",
        media_kinds=frozenset({"image", "document", "audio", "video"}),
        reactions=True,
        typing=True,
    )

    def __init__(self, config: WhatsAppConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.config = config
        self.statuses: OrderedDict[str, Status] = OrderedDict()
        self._last_inbound: dict[str, str] = {}
        self._sent: OrderedDict[str, str] = OrderedDict()
        self._queue_send, self._queue_recv = trio.open_memory_channel[moltbot.InboundMessage](256)

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
            phone = await self._graph(http).request(
                "GET", self.config.phone_number_id, params={"fields": "display_phone_number,verified_name"}
            )
        logger.info(
            "whatsapp: receiving for {} ({})", phone.get("display_phone_number"), phone.get("verified_name")
        )
        with webhooks.serving(self.name, self):
            task_status.started()
            async for message in self._queue_recv:
                await inbox.send(message)

    # ------------------------------------------------------------ webhook side

    def verify(self, query: Mapping[str, str]) -> Response:
        """The subscription handshake: echo ``hub.challenge`` if the verify token matches."""
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), self.config.verify_token.encode()
        ):
            return PlainTextResponse(query.get("hub.challenge", ""))
        return PlainTextResponse("verification failed", status_code=403)

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """One delivery: check the signature, queue its messages, record statuses, answer 200."""
        header = headers.get("x-hub-signature-256")
        if header is None:
            return PlainTextResponse("missing X-Hub-Signature-256", status_code=401)
        if not signature_ok(self.config.app_secret, body, header):
            logger.warning("whatsapp: rejected a webhook delivery with a bad signature")
            return PlainTextResponse("bad signature", status_code=403)
        try:
            messages, statuses = parse_delivery(
                json.loads(body), channel=self.name, phone_number_id=self.config.phone_number_id
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return PlainTextResponse(f"bad payload: {type(exc).__name__}: {exc}", status_code=400)
        for status in statuses:
            self._record(status)
        for message in messages:
            try:
                self._queue_send.send_nowait(message)
            except trio.WouldBlock:
                return PlainTextResponse("busy, deliver again later", status_code=503)
            self._last_inbound[message.chat_id] = message.message_id
        return PlainTextResponse("OK")

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
            "recipient_type": "individual",
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
        if key is not None and key in self._sent:
            return self._sent[key]
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
        if key is not None:
            self._sent[key] = sent
            while len(self._sent) > 1000:
                self._sent.popitem(last=False)
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

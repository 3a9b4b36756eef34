"""The Telegram channel: updates in by ``getUpdates`` long polling or by webhook, replies out
with ``sendMessage`` & co. over one HTTP client per run.

Polling: the update offset is persisted (``<state>/channels/telegram/offset.json``, atomic
writes) after each update was handed to the inbox, so a restart neither loses nor repeats
updates; the channels service's dedupe catches the one update that may be in flight during a
crash. A webhook left set is deleted first (``getUpdates`` answers 409 while one is set).

Webhook: ``run`` sets the webhook (URL, secret, update types) and registers the channel with
:mod:`moltbot.channels.webhooks`; the ``/webhooks/telegram`` route (:mod:`.routes`) checks the
secret and queues updates with :meth:`TelegramChannel.accept`, which spools each one to disk
before the 200 (:mod:`.spool`), so a crash loses none. The webhook stays set when the gateway
stops, so Telegram keeps the updates until it is back.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import trio
from loguru import logger

import moltbot
from moltbot.channels import webhooks
from moltbot.channels.http import RunClient
from moltbot.channels.sent import SentMessages
from moltbot.config.store import atomic_write
from moltbot_telegram.api import BotApi, TelegramError
from moltbot_telegram.config import TelegramConfig
from moltbot_telegram.media import localize
from moltbot_telegram.normalize import normalize, reply_target
from moltbot_telegram.render import to_html
from moltbot_telegram.spool import UpdateSpool

ALLOWED_UPDATES = ["message"]
WEBHOOK_QUEUE = 256
"""Webhook updates accepted but not yet routed; past this the route answers 503 (Telegram retries)."""


class OffsetStore:
    """The next ``getUpdates`` offset, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        try:
            value = json.loads(self.path.read_text()).get("offset")
        except (FileNotFoundError, ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None

    def save(self, offset: int) -> None:
        atomic_write(self.path, json.dumps({"offset": offset}).encode(), keep_backup=False)


def _chat_id(target: str) -> int | str:
    return int(target) if target.lstrip("-").isdigit() else target


class TelegramChannel(moltbot.ChatChannel):
    """One bot account."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=4096,
        formatting="html",
        media_kinds=frozenset({"image", "document"}),
        typing=True,
        threads=True,
        groups=True,
    )

    def __init__(self, config: TelegramConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.account = ctx.account
        self.label = ctx.label
        self.config = config
        self.settings = ctx.settings
        self.offsets = OffsetStore(ctx.state_dir / "offset.json")
        self.bot_id = 0
        self.bot_username: str | None = None
        self._sent = SentMessages()
        self._http = RunClient()
        self._queue_send, self._queue_recv = trio.open_memory_channel[dict[str, Any]](WEBHOOK_QUEUE)
        self.spool = UpdateSpool(ctx.state_dir / "webhook-spool")
        self._queued: set[int] = set()

    def _api(self, http: httpx.AsyncClient) -> BotApi:
        return BotApi(
            http, self.config.api_base_url, self.config.bot_token, timeout=self.config.request_timeout / 1000
        )

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[BotApi]:
        """The API over the running channel's client, or a short-lived one."""
        async with self._http.client() as http:
            yield self._api(http)

    # ------------------------------------------------------------ receiving

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with self._http.running() as http:
            api = self._api(http)
            me = await api.call("getMe")
            self.bot_id, self.bot_username = int(me["id"]), me.get("username")
            if self.config.mode == "webhook":
                await self._run_webhook(api, inbox, task_status)
            else:
                await self._run_polling(api, inbox, task_status)

    async def _run_polling(
        self,
        api: BotApi,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        task_status: trio.TaskStatus[None],
    ) -> None:
        webhook = (await api.call("getWebhookInfo")).get("url")
        if webhook:
            logger.info("{}: deleting the webhook {} to poll with getUpdates", self.label, webhook)
            await api.call("deleteWebhook", {"drop_pending_updates": False})
        logger.info("{}: @{} receives by long polling", self.label, self.bot_username)
        task_status.started()
        poll = self.config.poll_timeout // 1000
        offset = self.offsets.load()
        while True:
            params: dict[str, Any] = {"timeout": poll, "allowed_updates": ALLOWED_UPDATES}
            if offset is not None:
                params["offset"] = offset
            for update in await api.call("getUpdates", params, timeout=poll + api.timeout):
                await self._forward(api, update, inbox)
                offset = int(update["update_id"]) + 1
                self.offsets.save(offset)

    async def _run_webhook(
        self,
        api: BotApi,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        task_status: trio.TaskStatus[None],
    ) -> None:
        url, secret = self.config.webhook_url, self.config.webhook_secret
        assert url and secret  # the config model requires both in webhook mode
        for account, other in webhooks.receivers(self.name).items():
            if other is not self and other.secret_matches(secret):
                raise moltbot.ChannelFatalError(
                    f"accounts {account!r} and {self.account!r} share a webhookSecret; give each its own"
                )
        params = {"url": url, "secret_token": secret, "allowed_updates": ALLOWED_UPDATES}
        try:
            await api.call("setWebhook", params)
        except TelegramError as exc:
            if exc.code != 400:
                raise
            raise moltbot.ChannelFatalError(f"Telegram refused webhookUrl {url}: {exc.description}") from None
        with webhooks.serving(self.name, self, self.account):
            logger.info("{}: @{} receives by webhook at {}", self.label, self.bot_username, url)
            task_status.started()
            for update in self.spool.pending():  # accepted before a crash, never routed
                if update.get("update_id") not in self._queued:
                    await self._forward(api, update, inbox)
                    self.spool.done(update)
            async for update in self._queue_recv:
                self._queued.discard(update.get("update_id"))
                await self._forward(api, update, inbox)
                self.spool.done(update)

    async def _forward(
        self, api: BotApi, update: dict[str, Any], inbox: trio.MemorySendChannel[moltbot.InboundMessage]
    ) -> None:
        try:
            message = normalize(
                update,
                channel=self.name,
                account=self.account,
                bot_id=self.bot_id,
                bot_username=self.bot_username,
            )
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "{}: skipping update {} of an unexpected shape: {!r}",
                self.label,
                update.get("update_id"),
                exc,
            )
            return
        if message is None:
            return
        if message.media and self.config.download_media:
            message = await localize(
                message, update["message"], api, settings=self.settings, label=self.label
            )
        await inbox.send(message)

    def secret_matches(self, secret: str) -> bool:
        """Whether ``secret`` (a delivery's ``X-Telegram-Bot-Api-Secret-Token``) is this bot's,
        compared in constant time."""
        mine = self.config.webhook_secret
        return mine is not None and hmac.compare_digest(mine.encode(), secret.encode())

    def accept(self, update: dict[str, Any]) -> bool:
        """Spool and queue a webhook ``update`` for ``run``; False when the queue is full (the
        route answers 503 and Telegram delivers it again)."""
        self.spool.add(update)
        try:
            self._queue_send.send_nowait(update)
        except trio.WouldBlock:
            self.spool.done(update)
            logger.warning(
                "{}: webhook queue full, Telegram will deliver update {} again",
                self.label,
                update.get("update_id"),
            )
            return False
        self._queued.add(update.get("update_id"))
        return True

    # ------------------------------------------------------------ sending

    async def send(self, message: moltbot.OutboundMessage) -> str:
        key = message.idempotency_key
        if (earlier := self._sent.get(key)) is not None:
            return earlier
        base: dict[str, Any] = {"chat_id": _chat_id(message.target)}
        if message.thread_id:
            base["message_thread_id"] = int(message.thread_id)
        reply = reply_target(message.reply_to)
        if reply is not None:
            base["reply_parameters"] = {"message_id": reply, "allow_sending_without_reply": True}
        ids: list[str] = []
        async with self._client() as api:
            for media in message.media:
                method, field = (
                    ("sendPhoto", "photo") if media.kind == "image" else ("sendDocument", "document")
                )
                params = {**base, field: media.ref}
                if media.caption:
                    params.update(caption=to_html(media.caption), parse_mode="HTML")
                ids.append(str((await api.call(method, params))["message_id"]))
            if message.text:
                params = {**base, "text": to_html(message.text), "parse_mode": "HTML"}
                ids.append(str((await api.call("sendMessage", params))["message_id"]))
        if not ids:
            raise ValueError("an outbound Telegram message needs text or media")
        sent = f"{message.target}:{ids[-1]}"
        self._sent.remember(key, sent)
        return sent

    async def set_typing(self, target: str) -> None:
        async with self._client() as api:
            await api.call("sendChatAction", {"chat_id": _chat_id(target), "action": "typing"})

"""The Slack channel: one Slack app installation (bot token) = one account.

``run`` asks ``auth.test`` who the bot is (its user id gates group messages), then receives
events by Socket Mode (:mod:`.socket_mode`) or, in ``http`` mode, from the ``/webhooks/slack``
route (:mod:`.routes`, which verifies signatures and calls :meth:`SlackChannel.accept`).
Either way :meth:`accept` journals each message in the account's state directory before Slack
gets its acknowledgement, and a forwarder hands journaled messages to the inbox, downloading
their files first (off the acknowledgement path, which Slack wants within 3 seconds). What a
crash left in the journal is forwarded on the next start; the router's dedupe drops anything
seen before, including Slack's redeliveries.

Replies go out with ``chat.postMessage`` as mrkdwn (:mod:`.render`), in the thread of the
message they answer.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import httpx
import trio
from loguru import logger

import moltbot
from moltbot.channels import webhooks
from moltbot.channels.journal import InboundJournal
from moltbot.channels.sent import SentMessages
from moltbot_slack import socket_mode
from moltbot_slack.api import WebApi
from moltbot_slack.config import SlackConfig
from moltbot_slack.media import localize
from moltbot_slack.normalize import normalize, split_id
from moltbot_slack.render import escape, to_mrkdwn
from moltbot_slack.signing import signature_ok

QUEUE = 256
"""Accepted messages not yet forwarded; past this events go unacknowledged (Slack retries)."""
REMEMBERED = 1000
"""Sent idempotency keys and threads the bot posted in, kept in memory."""


def _remember(store: OrderedDict[str, str], key: str, value: str) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > REMEMBERED:
        store.popitem(last=False)


class SlackChannel(moltbot.ChatChannel):
    """One Slack app installation."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=4000,
        formatting="markdown",
        typing=False,
        threads=True,
        groups=True,
    )

    def __init__(self, config: SlackConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.account = ctx.account
        self.label = ctx.label
        self.config = config
        self.settings = ctx.settings
        self.bot_user = ""
        self.bot_name: str | None = None
        self.team_id: str | None = None
        self._threads: OrderedDict[str, str] = OrderedDict()
        self._sent = SentMessages(REMEMBERED)
        self._journal = InboundJournal(ctx.state_dir / "accepted.log")
        self._queued: set[str] = set()
        self._queue_send, self._queue_recv = trio.open_memory_channel[moltbot.InboundMessage](QUEUE)

    def _api(self, http: httpx.AsyncClient, token: str | None = None, what: str = "botToken") -> WebApi:
        return WebApi(
            http,
            self.config.api_base_url,
            token or self.config.bot_token,
            timeout=self.config.request_timeout / 1000,
            what=what,
        )

    # ------------------------------------------------------------ receiving

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with httpx.AsyncClient() as http:
            api = self._api(http)
            me = await api.call("auth.test")
            self.bot_user, self.bot_name = str(me["user_id"]), me.get("user")
            self.team_id = me.get("team_id")
            async with trio.open_nursery() as nursery:
                if self.config.mode == "http":
                    await self._serve_http(api, inbox, task_status)
                else:
                    await self._serve_socket(nursery, http, api, inbox, task_status)

    async def _serve_socket(
        self,
        nursery: trio.Nursery,
        http: httpx.AsyncClient,
        api: WebApi,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        task_status: trio.TaskStatus[None],
    ) -> None:
        connected = trio.Event()
        app = self._api(http, self.config.app_token, "appToken")
        receive = functools.partial(
            socket_mode.receive,
            app,
            self.accept,
            label=self.label,
            timeout=api.timeout,
            on_hello=connected.set,
        )
        nursery.start_soon(receive)
        await connected.wait()
        logger.info("{}: @{} receives by Socket Mode", self.label, self.bot_name)
        task_status.started()
        await self._forward_all(api, inbox)

    async def _serve_http(
        self,
        api: WebApi,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        task_status: trio.TaskStatus[None],
    ) -> None:
        with webhooks.serving(self.name, self, self.account):
            logger.info("{}: @{} receives Events API requests at /webhooks/slack", self.label, self.bot_name)
            task_status.started()
            await self._forward_all(api, inbox)

    async def _forward_all(self, api: WebApi, inbox: trio.MemorySendChannel[moltbot.InboundMessage]) -> None:
        for _, message in self._journal.pending():
            if message.message_id not in self._queued:  # else it is still in the queue
                await self._forward(api, message, inbox)
        async for message in self._queue_recv:
            self._queued.discard(message.message_id)
            await self._forward(api, message, inbox)

    async def _forward(
        self,
        api: WebApi,
        message: moltbot.InboundMessage,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
    ) -> None:
        if message.media and self.config.download_media:
            message = await localize(message, api, settings=self.settings, label=self.label)
        await inbox.send(message)
        self._journal.done(message.message_id)

    def accept(self, payload: dict[str, Any]) -> bool:
        """Journal and queue the message in an ``event_callback`` ``payload`` (events moltbot
        does not handle are dropped here); False when the queue is full and Slack should deliver
        the event again."""
        try:
            message = normalize(
                payload,
                channel=self.name,
                account=self.account,
                bot_user=self.bot_user,
                bot_name=self.bot_name,
                bot_threads=self._threads,
            )
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "{}: skipping event {} of an unexpected shape: {!r}", self.label, payload.get("event_id"), exc
            )
            return True
        if message is None:
            return True
        if message.message_id in self._queued:
            return True  # a redelivery of what is still waiting to be forwarded
        self._journal.add(message.message_id, message)
        try:
            self._queue_send.send_nowait(message)
        except trio.WouldBlock:
            logger.warning(
                "{}: queue full, Slack will deliver event {} again", self.label, payload.get("event_id")
            )
            return False  # the journal entry stays: the next run forwards it
        self._queued.add(message.message_id)
        return True

    # ------------------------------------------------------------ webhook side

    def signed(self, timestamp: str, body: bytes, signature: str) -> bool:
        """Whether ``signature`` (``X-Slack-Signature``) signs ``body`` at ``timestamp`` with this
        account's signing secret."""
        secret = self.config.signing_secret
        return secret is not None and signature_ok(secret, timestamp, body, signature)

    def addressed(self, payload: dict[str, Any]) -> bool:
        """Whether an event callback is for this installation (its workspace or its bot user)."""
        if self.team_id and payload.get("team_id") == self.team_id:
            return True
        return any(
            isinstance(a, dict) and a.get("user_id") == self.bot_user
            for a in payload.get("authorizations") or ()
        )

    # ------------------------------------------------------------ sending

    def _thread_ts(self, message: moltbot.OutboundMessage) -> str | None:
        """Replies go into the thread of what they answer; in a channel a top-level message
        starts one. A DM (``D...``) reply stays top-level unless the DM message was threaded."""
        if message.thread_id:
            return message.thread_id
        replied = split_id(message.reply_to)
        if replied is not None and not message.target.startswith("D"):
            return replied[1]
        return None

    def _text(self, message: moltbot.OutboundMessage) -> str:
        lines = [to_mrkdwn(message.text)] if message.text else []
        for media in message.media:
            if "://" not in media.ref:
                raise ValueError(f"Slack can only link outbound media by URL, not {media.ref!r}")
            label = escape(media.caption or media.ref).replace("|", "¦")
            lines.append(f"<{escape(media.ref)}|{label}>")
        if not lines:
            raise ValueError("an outbound Slack message needs text or media")
        return "\n".join(lines)

    async def send(self, message: moltbot.OutboundMessage) -> str:
        key = message.idempotency_key
        if (earlier := self._sent.get(key)) is not None:
            return earlier
        params: dict[str, Any] = {"channel": message.target, "text": self._text(message), "mrkdwn": True}
        thread = self._thread_ts(message)
        if thread:
            params["thread_ts"] = thread
        # a client of its own: a send in flight is not cut off when ``run`` restarts
        async with httpx.AsyncClient() as http:
            result = await self._api(http).call("chat.postMessage", params, json_body=True)
        channel, ts = str(result["channel"]), str(result["ts"])
        _remember(self._threads, thread or ts, channel)
        sent = f"{channel}:{ts}"
        self._sent.remember(key, sent)
        return sent

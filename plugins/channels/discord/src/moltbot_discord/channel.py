"""The Discord channel: messages in over the Gateway WebSocket, replies out over REST.

``run`` asks ``GET /gateway/bot`` where to connect (which also checks the token: 401 stops the
channel), then keeps one Gateway session (:mod:`.gateway`): it resumes after a dropped
connection, so events sent meanwhile are replayed rather than lost, and identifies afresh when
Discord ends the session. The session lives on the channel object, so a restart by the
supervisor resumes too. Messages sent while the gateway was not running at all are not fetched
afterwards (the Gateway does not keep them for a new session).

Replies: ``POST /channels/{id}/messages`` with ``allowed_mentions: {parse: []}`` (an agent's
text never pings @everyone, roles or users), threaded to the message they answer, and a
``nonce`` derived from the idempotency key with ``enforce_nonce`` so Discord itself drops a
repeated send. A target that is a user id rather than a channel id (a pairing approval notice)
gets its DM channel opened first.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import trio
from loguru import logger

import moltbot
from moltbot.channels.http import RunClient
from moltbot.channels.sent import SentMessages
from moltbot_discord.config import MESSAGE_CONTENT, DiscordConfig
from moltbot_discord.gateway import Gateway
from moltbot_discord.media import localize
from moltbot_discord.normalize import is_from_a_bot, normalize
from moltbot_discord.rest import DiscordError, DiscordRest

UNKNOWN_CHANNEL = 10003


def nonce_for(key: str) -> str:
    """A Discord ``nonce`` (at most 25 characters) standing for an idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:25]


class DiscordChannel(moltbot.ChatChannel):
    """One bot account."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=2000,
        formatting="markdown",
        typing=True,
        groups=True,
    )

    def __init__(self, config: DiscordConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.account = ctx.account
        self.label = ctx.label
        self.config = config
        self.settings = ctx.settings
        self.gateway = Gateway(
            config.bot_token, config.intents, label=self.label, timeout=config.request_timeout / 1000
        )
        self._dm_channels: dict[str, str] = {}
        """User id -> DM channel id, for sends addressed to a user."""
        self._sent = SentMessages()
        self._http = RunClient()
        self._blocked_until: dict[str, float] = {}
        """The bot's rate-limit state (see :class:`DiscordRest`), kept across clients."""
        self._warned_empty = False

    def _rest(self, http: httpx.AsyncClient) -> DiscordRest:
        return DiscordRest(
            http,
            self.config.api_base_url,
            self.config.bot_token,
            timeout=self.config.request_timeout / 1000,
            blocked_until=self._blocked_until,
        )

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[DiscordRest]:
        """The REST API over the running channel's client, or a short-lived one."""
        async with self._http.client() as http:
            yield self._rest(http)

    # ------------------------------------------------------------ receiving

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with self._http.running() as http:
            await self._run(self._rest(http), inbox, task_status)

    async def _run(
        self,
        rest: DiscordRest,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        task_status: trio.TaskStatus[None],
    ) -> None:
        started = False

        def ready() -> None:
            nonlocal started
            if not started:
                started = True
                logger.info("{}: connected to the Gateway as {}", self.label, self.gateway.username)
                task_status.started()

        async def handle(kind: str, data: dict[str, Any]) -> None:
            if kind == "MESSAGE_CREATE":
                await self._forward(rest, data, inbox)

        while True:
            url = None
            if not self.gateway.resumable:
                found = await self._discover(rest)
                url = self.config.gateway_url or found
            await self.gateway.connect(url, handle, ready)

    async def _discover(self, rest: DiscordRest) -> str:
        """The Gateway URL from ``GET /gateway/bot``; fails while no session may be started."""
        info = await rest.call("GET", "/gateway/bot")
        limit = info.get("session_start_limit") or {}
        if limit.get("remaining") == 0:
            raise ConnectionError(
                "Discord's daily limit of new Gateway sessions is used up; it resets in"
                f" {int(limit.get('reset_after', 0)) // 1000} s"
            )
        return str(info["url"])

    async def _forward(
        self, rest: DiscordRest, data: dict[str, Any], inbox: trio.MemorySendChannel[moltbot.InboundMessage]
    ) -> None:
        try:
            message = normalize(data, channel=self.name, account=self.account, bot_id=self.gateway.user_id)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "{}: skipping message {} of an unexpected shape: {!r}", self.label, data.get("id"), exc
            )
            return
        if message is None:
            self._warn_if_contentless(data)
            return
        if message.media and self.config.download_media:
            message = await localize(message, data, rest, settings=self.settings, label=self.label)
        await inbox.send(message)

    def _warn_if_contentless(self, data: dict[str, Any]) -> None:
        """Guild messages without text are what a bot without the MESSAGE CONTENT intent gets."""
        contentless = data.get("guild_id") and not data.get("content") and not data.get("attachments")
        if contentless and not is_from_a_bot(data, self.gateway.user_id) and not self._warned_empty:
            self._warned_empty = True
            hint = (
                "enable MESSAGE CONTENT INTENT in the Developer Portal"
                if self.config.intents & MESSAGE_CONTENT
                else "channels.discord.intents lacks MESSAGE_CONTENT (1 << 15)"
            )
            logger.warning("{}: guild messages arrive without their text; {}", self.label, hint)

    # ------------------------------------------------------------ sending

    async def send(self, message: moltbot.OutboundMessage) -> str:
        key = message.idempotency_key
        if (earlier := self._sent.get(key)) is not None:
            return earlier
        body: dict[str, Any] = {"content": self._content(message), "allowed_mentions": {"parse": []}}
        if message.reply_to:
            body["message_reference"] = {"message_id": message.reply_to, "fail_if_not_exists": False}
        if key is not None:
            body.update(nonce=nonce_for(key), enforce_nonce=True)
        async with self._client() as rest:
            sent = await self._post(rest, message.target, body)
        message_id = str(sent["id"])
        self._sent.remember(key, message_id)
        return message_id

    @staticmethod
    def _content(message: moltbot.OutboundMessage) -> str:
        """The text, with linked media as URLs (Discord shows a preview); files are not uploaded."""
        links = []
        for media in message.media:
            if not media.ref.startswith(("https://", "http://")):
                raise ValueError(f"discord: sending files is not supported ({media.kind} {media.ref})")
            links.append(media.ref)
        return "\n".join(part for part in (message.text, *links) if part)

    async def _post(self, rest: DiscordRest, target: str, body: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._dm_channels.get(target, target)
        try:
            return await rest.call("POST", f"/channels/{channel_id}/messages", body)
        except DiscordError as exc:
            if exc.code != UNKNOWN_CHANNEL or target in self._dm_channels:
                raise
        # not a channel: a user id (a pairing approval is addressed to the sender)
        dm = await rest.call("POST", "/users/@me/channels", {"recipient_id": target})
        self._dm_channels[target] = str(dm["id"])
        return await rest.call("POST", f"/channels/{dm['id']}/messages", body)

    async def set_typing(self, target: str) -> None:
        async with self._client() as rest:
            await rest.call("POST", f"/channels/{self._dm_channels.get(target, target)}/typing")

"""A protocol-faithful fake Discord on loopback: REST API v10 (hypercorn + starlette on trio),
the CDN serving attachments, and the Gateway (:mod:`.fake_gateway`).

REST: ``Authorization: Bot <token>`` on every ``/api/v10`` call (401 ``{"message": "401:
Unauthorized", "code": 0}`` otherwise); ``GET /gateway/bot``; ``POST /channels/{id}/messages``
(2000-character ``content`` limit as error 50035, empty content 50006, unknown channel 404
10003, ``nonce`` of at most 25 characters, ``enforce_nonce`` returning the earlier message,
``message_reference`` answered with type 19 and ``referenced_message``); ``POST
/channels/{id}/typing`` (204); ``POST /users/@me/channels`` opening a DM. Each channel's
message route is a rate-limit bucket of :attr:`FakeDiscord.bucket_limit` requests per
:attr:`FakeDiscord.bucket_window` seconds with Discord's ``X-RateLimit-*`` headers, answering
429 ``{"message", "retry_after", "global"}`` past it; :meth:`rate_limit_next` scripts one.

A message the bot creates is also dispatched on the Gateway, with the bot as author, as
Discord does. Users talk with :meth:`dm` and :meth:`say_in_guild`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.testing.loopback import serve_app

from .fake_gateway import FakeGateway

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GfAke1.fake-bot-token-for-tests-0123456789"
BOT_ID = "1100000000000000001"
BOT = {
    "id": BOT_ID,
    "username": "molt",
    "global_name": None,
    "discriminator": "0",
    "avatar": None,
    "bot": True,
}
GUILD_ID = "1300000000000000001"
GUILD_CHANNEL = "1300000000000000010"


@dataclass
class Call:
    method: str
    path: str
    body: Any
    headers: dict[str, str]
    at: float
    """trio time the request arrived."""


@dataclass
class FakeDiscord:
    token: str = TOKEN
    bot: dict[str, Any] = field(default_factory=lambda: dict(BOT))
    bucket_limit: int = 5
    bucket_window: float = 5.0
    gateway: FakeGateway = field(init=False)
    base_url: str = ""
    calls: list[Call] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    """Every message the bot created, as Discord returned it."""
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Authorization header) of every CDN request."""
    first_id: int = 1400000000000000000
    """Where this fake's snowflakes start (two fakes: two ranges, as on the real platform)."""
    _ids: Any = field(init=False)
    _buckets: dict[str, tuple[float, int]] = field(default_factory=dict)
    _scripted_429: list[tuple[float, bool]] = field(default_factory=list)
    _nonces: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(self.first_id)
        self.gateway = FakeGateway(token=self.token, bot=self.bot)
        self.channels[GUILD_CHANNEL] = {
            "id": GUILD_CHANNEL,
            "type": 0,
            "guild_id": GUILD_ID,
            "name": "general",
        }

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v10"

    # ------------------------------------------------------------ users

    def user(self, user_id: str, username: str = "ada") -> dict[str, Any]:
        user = {
            "id": user_id,
            "username": username,
            "global_name": username.title(),
            "discriminator": "0",
            "avatar": None,
        }
        self.users[user_id] = user
        return user

    def dm_channel(self, user_id: str) -> str:
        """The id of the DM channel between the bot and ``user_id`` (opened on first use)."""
        for channel in self.channels.values():
            if channel["type"] == 1 and channel["recipients"][0]["id"] == user_id:
                return channel["id"]
        user = self.users.get(user_id) or self.user(user_id)
        channel_id = str(next(self._ids))
        self.channels[channel_id] = {
            "id": channel_id,
            "type": 1,
            "recipients": [user],
            "last_message_id": None,
        }
        return channel_id

    def attach(self, channel_id: str, filename: str, data: bytes, content_type: str) -> dict[str, Any]:
        """Store a file on the CDN; its attachment object."""
        attachment_id = str(next(self._ids))
        path = f"/attachments/{channel_id}/{attachment_id}/{filename}"
        self.files[path] = data
        return {
            "id": attachment_id,
            "filename": filename,
            "size": len(data),
            "url": f"{self.base_url}{path}?ex=67a1b2c3&is=67a06143&hm=0123abcd",
            "proxy_url": f"{self.base_url}/proxy{path}",
            "content_type": content_type,
        }

    def _message(self, channel_id: str, author: dict[str, Any], content: str, **extra: Any) -> dict[str, Any]:
        message = {
            "id": str(next(self._ids)),
            "channel_id": channel_id,
            "author": author,
            "content": content,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            **extra,
        }
        guild_id = self.channels[channel_id].get("guild_id")
        if guild_id:
            message["guild_id"] = guild_id
            message["member"] = {"roles": [], "joined_at": "2024-01-01T00:00:00+00:00"}
        self.messages[message["id"]] = message
        return message

    def _post(self, message: dict[str, Any], *, mentions_bot: bool = False) -> dict[str, Any]:
        self.gateway.dispatch("MESSAGE_CREATE", message, mentions_bot=mentions_bot)
        return message

    def dm(
        self, text: str, *, user_id: str = "4242", attachments: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """``user_id`` writes to the bot in their DM channel; the dispatched message."""
        author = self.users.get(user_id) or self.user(user_id)
        channel_id = self.dm_channel(user_id)
        return self._post(self._message(channel_id, author, text, attachments=attachments or []))

    def say_in_guild(
        self,
        text: str,
        *,
        user_id: str = "4242",
        channel_id: str = GUILD_CHANNEL,
        mention_bot: bool = False,
        reply_to: dict[str, Any] | None = None,
        author: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message in a guild channel; ``mention_bot`` puts ``<@bot id>`` in front."""
        if channel_id not in self.channels:
            self.channels[channel_id] = {"id": channel_id, "type": 0, "guild_id": GUILD_ID, "name": "other"}
        author = author or self.users.get(user_id) or self.user(user_id)
        extra: dict[str, Any] = {}
        if mention_bot:
            text = f"<@{self.bot['id']}> {text}"
            extra["mentions"] = [self.bot]
        if reply_to is not None:
            extra.update(
                type=19,
                referenced_message=reply_to,
                message_reference={
                    "type": 0,
                    "message_id": reply_to["id"],
                    "channel_id": channel_id,
                    "guild_id": GUILD_ID,
                },
            )
        replied_to_bot = reply_to is not None and reply_to["author"]["id"] == self.bot["id"]
        if replied_to_bot:
            extra.setdefault("mentions", []).append(self.bot)
        return self._post(
            self._message(channel_id, author, text, **extra), mentions_bot=mention_bot or replied_to_bot
        )

    def rate_limit_next(self, retry_after: float, *, global_: bool = False) -> None:
        """The next message POST answers 429 with ``retry_after`` seconds."""
        self._scripted_429.append((retry_after, global_))

    def sent(self, channel_id: str | None = None) -> list[str]:
        """The contents of the bot's messages (in ``channel_id``)."""
        return [m["content"] for m in self.created if channel_id in (None, m["channel_id"])]

    def requests(self, method: str, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    # ------------------------------------------------------------ REST

    @staticmethod
    def _error(status: int, code: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"message": message, "code": code, **extra}, status_code=status)

    def _too_long(self, field_name: str, limit: int) -> JSONResponse:
        errors = {
            field_name: {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
                ]
            }
        }
        return self._error(400, 50035, "Invalid Form Body", errors=errors)

    async def _record(self, request: Request) -> Call | Response:
        body = await request.json() if await request.body() else None
        call = Call(request.method, request.url.path, body, dict(request.headers), trio.current_time())
        self.calls.append(call)
        if request.headers.get("authorization") != f"Bot {self.token}":
            return self._error(401, 0, "401: Unauthorized")
        return call

    async def gateway_bot(self, request: Request) -> Response:
        call = await self._record(request)
        if isinstance(call, Response):
            return call
        limit = {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}
        return JSONResponse({"url": self.gateway.url, "shards": 1, "session_start_limit": limit})

    def _bucket(self, channel_id: str) -> tuple[dict[str, str], float | None]:
        """Take one request from the channel's bucket: its headers, and a retry_after when empty."""
        now = trio.current_time()
        start, used = self._buckets.get(channel_id, (now, 0))
        if now - start >= self.bucket_window:
            start, used = now, 0
        reset_after = round(start + self.bucket_window - now, 3)
        headers = {
            "X-RateLimit-Limit": str(self.bucket_limit),
            "X-RateLimit-Reset": f"{datetime.now(UTC).timestamp() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fakebucket{channel_id[-6:]}",
        }
        if used >= self.bucket_limit:
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Scope": "user",
                    "Retry-After": str(math.ceil(reset_after)),
                }
            )
            return headers, reset_after
        self._buckets[channel_id] = (start, used + 1)
        headers["X-RateLimit-Remaining"] = str(self.bucket_limit - used - 1)
        return headers, None

    async def create_message(self, request: Request) -> Response:
        call = await self._record(request)
        if isinstance(call, Response):
            return call
        channel_id = request.path_params["channel_id"]
        if self._scripted_429:
            retry_after, global_ = self._scripted_429.pop(0)
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": global_}
            headers = {
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Scope": "global" if global_ else "user",
            }
            if global_:
                headers["X-RateLimit-Global"] = "true"
            return JSONResponse(body, status_code=429, headers=headers)
        headers, retry_after = self._bucket(channel_id)
        if retry_after is not None:
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            return JSONResponse(body, status_code=429, headers=headers)
        if channel_id not in self.channels:
            return self._error(404, 10003, "Unknown Channel")
        params = call.body or {}
        content = params.get("content") or ""
        if len(content) > 2000:
            return self._too_long("content", 2000)
        if not content.strip():
            return self._error(400, 50006, "Cannot send an empty message")
        nonce = params.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            return self._too_long("nonce", 25)
        if nonce is not None and params.get("enforce_nonce") and (channel_id, str(nonce)) in self._nonces:
            return JSONResponse(self._nonces[(channel_id, str(nonce))], headers=headers)
        extra: dict[str, Any] = {}
        reference = params.get("message_reference")
        if reference:
            referenced = self.messages.get(str(reference.get("message_id")))
            if referenced is None and reference.get("fail_if_not_exists", True):
                return self._error(
                    400,
                    50035,
                    "Invalid Form Body",
                    errors={
                        "message_reference": {
                            "_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                        }
                    },
                )
            if referenced is not None:
                extra.update(
                    type=19,
                    referenced_message=referenced,
                    message_reference={"type": 0, "message_id": referenced["id"], "channel_id": channel_id},
                )
        if nonce is not None:
            extra["nonce"] = nonce
        message = self._message(channel_id, self.bot, content, **extra)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = message
        self.created.append(message)
        self._post(message)
        return JSONResponse(message, headers=headers)

    async def typing(self, request: Request) -> Response:
        call = await self._record(request)
        if isinstance(call, Response):
            return call
        if request.path_params["channel_id"] not in self.channels:
            return self._error(404, 10003, "Unknown Channel")
        return Response(status_code=204)

    async def open_dm(self, request: Request) -> Response:
        call = await self._record(request)
        if isinstance(call, Response):
            return call
        recipient = str((call.body or {}).get("recipient_id"))
        if recipient not in self.users:
            return self._error(400, 50033, "Invalid Recipient(s)")
        return JSONResponse(self.channels[self.dm_channel(recipient)])

    async def cdn(self, request: Request) -> Response:
        path = request.url.path
        self.downloads.append((path, request.headers.get("authorization")))
        data = self.files.get(path)
        if data is None or "hm" not in request.query_params:
            return Response("This content is no longer available.", status_code=404)
        return Response(data, media_type="application/octet-stream")

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve REST, the CDN and the Gateway on free loopback ports; the REST API root."""
        app = Starlette(
            routes=[
                Route("/api/v10/gateway/bot", self.gateway_bot, methods=["GET"]),
                Route("/api/v10/channels/{channel_id}/messages", self.create_message, methods=["POST"]),
                Route("/api/v10/channels/{channel_id}/typing", self.typing, methods=["POST"]),
                Route("/api/v10/users/@me/channels", self.open_dm, methods=["POST"]),
                Route("/attachments/{rest:path}", self.cdn, methods=["GET"]),
            ]
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(self.gateway.run)
            self.base_url = await nursery.start(serve_app, app)
            task_status.started(self.api)

"""A protocol-faithful fake Slack on loopback: the Web API (hypercorn + starlette on trio), Socket
Mode (a trio-websocket server) and the Events API's HTTP sender.

Web API: ``POST /api/<method>`` with a Bearer token, JSON or form parameters; answers are HTTP
200 ``{"ok": true, ...}`` or ``{"ok": false, "error"}``, rate limits HTTP 429 with a
``Retry-After`` header. Implemented: ``auth.test``, ``apps.connections.open`` (app-level token
only), ``chat.postMessage`` (bot token; ``channel_not_found``, ``not_in_channel``, ``no_text``,
``msg_too_long``), ``files.info``. Files download from ``/files-pri/<team>-<id>/<name>`` with
the bot token; without it Slack answers 200 with its HTML sign-in page, and so does the fake.

Socket Mode: ``apps.connections.open`` issues a one-use ``ws://.../link/?ticket=...`` URL of
:attr:`FakeSlack.socket` (:mod:`.fake_socket_mode`), which delivers events as envelopes.

Events API over HTTP: with :attr:`FakeSlack.request_url` set, events are POSTed there instead,
signed with :attr:`FakeSlack.signing_secret`; a non-2xx answer is retried up to three times with
``X-Slack-Retry-Num``. :meth:`post_event` sends one request by hand (any secret or timestamp).

What Slack shows users is :func:`displayed`: control sequences resolved, entities decoded; and
:attr:`FakeSlack.pings` records every ``<!here>``/``<!channel>``/``<@U...>`` the bot sent.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.testing.loopback import serve_app

from .fake_socket_mode import APP_ID, SocketModeServer

BOT_TOKEN = "xoxb-1111-2222-FakeBotToken0123456789"
APP_TOKEN = "xapp-1-A0FAKE-3333-FakeAppToken0123456789"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0FAKE"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "molt"
USER = "U4242"
GENERAL = "C0GENERAL"
MAX_TEXT = 40_000
_CONTROL = re.compile(r"<([^<>]*)>")


def displayed(text: str) -> tuple[str, list[str]]:
    """What a Slack client shows for message ``text``, and the pings it carries."""
    pings: list[str] = []

    def resolve(match: re.Match[str]) -> str:
        target, _, label = match[1].partition("|")
        if target.startswith(("@", "!")):
            pings.append(target)
            return f"@{label or target[1:]}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        return label or target

    shown = _CONTROL.sub(resolve, text)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"), pings


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    json_body: bool


@dataclass
class StoredFile:
    info: dict[str, Any]
    data: bytes


@dataclass
class FakeSlack:
    bot_token: str = BOT_TOKEN
    app_token: str = APP_TOKEN
    signing_secret: str = SIGNING_SECRET
    team_id: str = TEAM
    bot_user: str = BOT_USER
    base_url: str = ""
    """The Web API root (``http://127.0.0.1:<port>/api``)."""
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    """Every message the bot posted (``chat.postMessage`` parameters plus ``ts``)."""
    pings: list[str] = field(default_factory=list)
    joined: set[str] = field(default_factory=lambda: {GENERAL})
    """Channels the bot is a member of (DMs always work)."""
    files: dict[str, StoredFile] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)
    """File ids the bot token may not download (Slack then serves its sign-in page)."""
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    """``(path, Authorization header)`` of every file request."""
    socket: SocketModeServer = field(default_factory=SocketModeServer)
    """Socket Mode: pending envelopes, acknowledgements, connections."""
    request_url: str | None = None
    """Events API mode: where events are POSTed (the gateway's /webhooks/slack)."""
    deliveries: list[int] = field(default_factory=list)
    """HTTP statuses the request URL answered, in order."""
    echo_bot_messages: bool = True
    """Deliver the bot's own posts back to it as ``message`` events with ``bot_id``, as Slack does."""
    _outbox: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[str, str, int, float | None]] = field(default_factory=list)
    _ts: Any = field(default_factory=lambda: itertools.count(100))
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _wake: trio.Event = field(default_factory=trio.Event)

    # ------------------------------------------------------------ scripting

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def user_says(
        self,
        text: str,
        *,
        user: str = USER,
        channel: str | None = None,
        thread_ts: str | None = None,
        parent_user: str | None = None,
        files: list[dict[str, Any]] | None = None,
        mention: bool = False,
    ) -> dict[str, Any]:
        """A user's message event (a DM with the bot unless ``channel``); ``mention`` puts
        ``<@bot>`` in front and also sends the ``app_mention`` event Slack sends for it."""
        conversation = channel or f"D0{user}"
        kind = (
            "im" if conversation.startswith("D") else ("group" if conversation.startswith("G") else "channel")
        )
        if mention:
            text = f"<@{self.bot_user}> {text}"
        ts = self.next_ts()
        event: dict[str, Any] = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": self.team_id,
            "channel": conversation,
            "event_ts": ts,
            "channel_type": kind,
        }
        if thread_ts:
            event.update(thread_ts=thread_ts, parent_user_id=parent_user or user)
        if files:
            event.update(subtype="file_share", files=files, upload=False, display_as_bot=False)
        self.emit(event)
        if mention:
            mentioned = {k: event[k] for k in ("type", "text", "user", "ts", "team", "channel", "event_ts")}
            mentioned["type"] = "app_mention"
            if thread_ts:
                mentioned["thread_ts"] = thread_ts
            self.emit(mentioned)
        return event

    def bot_says(self, text: str, *, channel: str = GENERAL, bot_id: str = "B0OTHER") -> dict[str, Any]:
        """Another app's message (subtype ``bot_message``)."""
        ts = self.next_ts()
        event = {
            "type": "message",
            "subtype": "bot_message",
            "text": text,
            "bot_id": bot_id,
            "username": "other-bot",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        self.emit(event)
        return event

    def add_file(self, name: str, data: bytes, mimetype: str, *, size: int | None = None) -> dict[str, Any]:
        """Store an uploaded file; the file object a ``file_share`` event carries."""
        file_id = f"F0{len(self.files) + 1:05d}"
        url = f"{self.base_url.removesuffix('/api')}/files-pri/{self.team_id}-{file_id}/{name}"
        info = {
            "id": file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "user": USER,
            "size": size if size is not None else len(data),
            "mode": "hosted",
            "is_external": False,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
        }
        self.files[file_id] = StoredFile(info, data)
        return info

    def payload(self, event: dict[str, Any]) -> dict[str, Any]:
        """The ``event_callback`` wrapper Slack puts around ``event``."""
        return {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev0{next(self._ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": self.team_id,
                    "user_id": self.bot_user,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def emit(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver ``event`` by Socket Mode or, with :attr:`request_url`, over HTTP."""
        payload = self.payload(event)
        if self.request_url:
            self._outbox.append(payload)
            self._poke()
        else:
            self.socket.enqueue(payload)
        return payload

    def _poke(self) -> None:
        self._wake.set()
        self._wake = trio.Event()

    def fail_next(
        self, method: str, error: str, *, status: int = 200, retry_after: float | None = None
    ) -> None:
        self._failures.append((method, error, status, retry_after))

    def rate_limit_next(self, method: str, retry_after: float) -> None:
        self.fail_next(method, "ratelimited", status=429, retry_after=retry_after)

    def sent_texts(self) -> list[str]:
        """What users see of each bot message, in order."""
        return [displayed(m["text"])[0] for m in self.messages]

    async def post_event(
        self,
        url: str,
        body: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST one Events API request the way Slack signs it."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(secret or self.signing_secret, stamp, content),
        }
        if retry_num:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_error"})
        if http is not None:
            return await http.post(url, content=content, headers=headers)
        async with httpx.AsyncClient() as client:
            return await client.post(url, content=content, headers=headers)

    # ------------------------------------------------------------ Web API

    def _ok(self, **result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, **result})

    def _error(self, error: str, status: int = 200, retry_after: float | None = None) -> JSONResponse:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return JSONResponse({"ok": False, "error": error}, status_code=status, headers=headers)

    async def endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        is_json = request.headers.get("content-type", "").startswith("application/json")
        raw = await request.body()
        if is_json:
            params: dict[str, Any] = json.loads(raw) if raw else {}
        else:
            params = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        self.calls.append(Call(method, params, token, is_json))
        if not token:
            return self._error("not_authed")
        if token not in (self.bot_token, self.app_token):
            return self._error("invalid_auth")
        for i, (m, error, status, retry_after) in enumerate(self._failures):
            if m == method:
                del self._failures[i]
                return self._error(error, status, retry_after)
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error("unknown_method", 404)
        return await handler(params, token)

    async def m_auth_test(self, params: dict[str, Any], token: str) -> JSONResponse:
        if token == self.app_token:
            return self._error("not_allowed_token_type")
        return self._ok(
            url="https://fake.slack.com/",
            team="Fake Team",
            user=BOT_NAME,
            team_id=self.team_id,
            user_id=self.bot_user,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    async def m_apps_connections_open(self, params: dict[str, Any], token: str) -> JSONResponse:
        if token != self.app_token:
            return self._error("not_allowed_token_type")
        return self._ok(url=self.socket.issue_url())

    async def m_chat_postMessage(self, params: dict[str, Any], token: str) -> JSONResponse:
        if token != self.bot_token:
            return self._error("not_allowed_token_type")
        channel = str(params.get("channel") or "")
        text = str(params.get("text") or "")
        if not channel.startswith(("C", "D", "G")):
            return self._error("channel_not_found")
        if not channel.startswith("D") and channel not in self.joined:
            return self._error("not_in_channel")
        if not text.strip():
            return self._error("no_text")
        if len(text) > MAX_TEXT:
            return self._error("msg_too_long")
        ts = self.next_ts()
        message = {**params, "ts": ts}
        self.messages.append(message)
        self.pings.extend(displayed(text)[1])
        if self.echo_bot_messages:
            event = {
                "type": "message",
                "text": text,
                "user": self.bot_user,
                "bot_id": BOT_ID,
                "ts": ts,
                "channel": channel,
                "event_ts": ts,
                "channel_type": "im" if channel.startswith("D") else "channel",
            }
            if params.get("thread_ts"):
                event.update(thread_ts=params["thread_ts"], parent_user_id=USER)
            self.emit(event)
        posted = {"type": "message", "text": text, "user": self.bot_user, "bot_id": BOT_ID, "ts": ts}
        return self._ok(channel=channel, ts=ts, message=posted)

    async def m_files_info(self, params: dict[str, Any], token: str) -> JSONResponse:
        stored = self.files.get(str(params.get("file") or ""))
        if stored is None:
            return self._error("file_not_found")
        return self._ok(file=stored.info, comments=[], response_metadata={"next_cursor": ""})

    async def file(self, request: Request) -> Response:
        auth = request.headers.get("authorization")
        self.downloads.append((request.url.path, auth))
        file_id = request.path_params["key"].split("-", 1)[-1]
        if auth != f"Bearer {self.bot_token}" or file_id in self.unreadable:
            page = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"
            return Response(page, media_type="text/html")
        stored = self.files.get(file_id)
        if stored is None:
            return Response("Not Found", status_code=404)
        return Response(stored.data, media_type=stored.info["mimetype"])

    # ------------------------------------------------------------ Events API over HTTP

    async def _push(self) -> None:
        async with httpx.AsyncClient() as http:
            while True:
                if not (self.request_url and self._outbox):
                    await self._wake.wait()
                    continue
                payload = self._outbox.pop(0)
                for retry in range(4):
                    try:
                        response = await self.post_event(
                            self.request_url, payload, retry_num=retry, http=http
                        )
                    except httpx.HTTPError:
                        self.deliveries.append(0)
                    else:
                        self.deliveries.append(response.status_code)
                        if response.is_success:
                            break
                    await trio.sleep(0.05)

    # ------------------------------------------------------------ server

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        app = Starlette(
            routes=[
                Route("/api/{method}", self.endpoint, methods=["GET", "POST"]),
                Route("/files-pri/{key}/{name}", self.file, methods=["GET"]),
            ]
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(self.socket.run)
            self.base_url = await nursery.start(serve_app, app) + "/api"
            nursery.start_soon(self._push)
            task_status.started(self.base_url)

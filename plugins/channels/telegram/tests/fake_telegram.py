"""A protocol-faithful fake Telegram Bot API server on loopback (hypercorn + starlette on trio).

Speaks ``/bot<token>/<method>`` with JSON or query parameters and answers with the Bot API's
envelope (``{"ok": true, "result"}`` / ``{"ok": false, "error_code", "description",
"parameters"}``). ``getUpdates`` long-polls and confirms updates below ``offset``; sendMessage
checks the 4096-character limit and HTML ``parse_mode`` markup like the real server.

Files: :meth:`FakeTelegram.user_sends` attaches a file to a message; ``getFile`` answers with
a ``file_path`` (``400 file is too big`` past 20 MB) that ``GET /file/bot<token>/<file_path>``
then serves (401 for a wrong token, 404 for a path ``getFile`` never issued).

Webhooks: ``setWebhook`` (HTTPS only, ``secret_token`` of ``A-Za-z0-9_-``), ``deleteWebhook``
and ``getWebhookInfo``; while a webhook is set ``getUpdates`` answers 409. Telegram would POST
each update to the webhook URL; the fake POSTs it to :attr:`FakeTelegram.tunnel` instead (where
the public URL leads, e.g. a Tailscale Funnel to the gateway) with the secret header, oldest
first, and drops it on a 2xx answer. :meth:`post_update` sends one delivery by hand.

Tests push updates with :meth:`user_says`, script errors with :meth:`fail_next`, and take the
server down and up again with :meth:`go_down` / :meth:`come_up`.
"""

from __future__ import annotations

import html.parser
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.testing.loopback import Outage

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
MAX_DOWNLOAD = 20 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOT = {"id": 777000111, "is_bot": True, "first_name": "Molt", "username": "molt_test_bot"}
_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}


class _EntityParser(html.parser.HTMLParser):
    """Rejects what Telegram rejects in HTML mode: unknown or unbalanced tags, bare ``&``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in _TAGS:
            raise ValueError(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ValueError(f'Unmatched end tag "{tag}"')

    def handle_data(self, data: str) -> None:
        if "&" in data:
            raise ValueError("Unsupported start tag or character reference")
        self.visible += len(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise ValueError(f'Character entity "{name}" is not supported')
        self.visible += 1

    def handle_charref(self, name: str) -> None:
        self.visible += 1


def parse_html(text: str) -> int:
    """The visible length of ``text``; raises ValueError like Telegram's entity parser."""
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"')
    return parser.visible


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    peer: str = ""
    """The client's ``host:port``: calls over one kept-alive connection share it."""


@dataclass
class StoredFile:
    path: str
    data: bytes
    size: int


@dataclass
class FakeTelegram:
    token: str = TOKEN
    bot: dict[str, Any] = field(default_factory=lambda: dict(BOT))
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    files: dict[str, StoredFile] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    """Every ``/file/...`` path requested (token included, as the client sent it)."""
    webhook: dict[str, Any] = field(default_factory=dict)
    """``{"url", "secret_token", "allowed_updates"}`` while a webhook is set."""
    tunnel: str | None = None
    """Where webhook deliveries go (the local end of the public ``webhook["url"]``)."""
    deliveries: list[int] = field(default_factory=list)
    """HTTP statuses the webhook target answered, in order."""
    _failures: list[tuple[str, int, str, dict[str, Any] | None]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Any = field(default_factory=lambda: itertools.count(5001))
    _arrived: trio.Event = field(default_factory=trio.Event)
    _outage: Outage = field(default_factory=Outage)
    _issued: set[str] = field(default_factory=set)

    # ------------------------------------------------------------ scripting

    def user_says(
        self,
        text: str,
        *,
        user_id: int = 4242,
        chat_id: int | None = None,
        chat_type: str = "private",
        entities: list[dict[str, Any]] | None = None,
        reply_to_bot: bool = False,
        photo: str | None = None,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue an update with a message, as a user's client would produce it."""
        chat = {"id": chat_id or user_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Test group"
        else:
            chat["first_name"] = "Ada"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Ada",
                "username": "ada",
                "language_code": "en",
            },
            "chat": chat,
            "date": int(time.time()),
        }
        if photo:
            message["photo"] = [
                {
                    "file_id": f"{photo}-small",
                    "file_unique_id": "s1",
                    "width": 90,
                    "height": 90,
                    "file_size": 1200,
                },
                {"file_id": photo, "file_unique_id": "b1", "width": 1280, "height": 960, "file_size": 98000},
            ]
            message["caption"] = text
        else:
            message["text"] = text
        if entities:
            message["caption_entities" if photo else "entities"] = entities
        if reply_to_bot:
            message["reply_to_message"] = {
                "message_id": 1,
                "from": self.bot,
                "chat": chat,
                "date": 0,
                "text": "hi",
            }
        update = {
            "update_id": update_id if update_id is not None else next(self._ids) + 100000,
            "message": message,
        }
        self.redeliver(update)
        return update

    def add_file(self, folder: str, data: bytes, *, size: int | None = None) -> dict[str, Any]:
        """Store a file as Telegram would; the ``file_id`` fields of its object. ``size``
        overrides the reported size (a file too big for bots, without its bytes in memory)."""
        n = len(self.files) + 1
        stored = StoredFile(f"{folder}/file_{n}", data, size if size is not None else len(data))
        file_id = f"BQACAgIAAxkBAAI{n:04d}"
        self.files[file_id] = stored
        return {"file_id": file_id, "file_unique_id": f"AgAD{n:04d}", "file_size": stored.size}

    def user_sends(
        self,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        user_id: int = 4242,
    ) -> dict[str, Any]:
        """Queue a message carrying a file: ``kind`` is photo, document, voice, audio, video or
        sticker, with the object shape the Bot API uses for it."""
        update = self.user_says(caption or "", user_id=user_id)
        message = update["message"]
        message.pop("text")
        if caption:
            message["caption"] = caption
        if kind == "photo":
            thumb = self.add_file("photos", data[:64])
            big = self.add_file("photos", data, size=size)
            message["photo"] = [{**thumb, "width": 90, "height": 67}, {**big, "width": 1280, "height": 960}]
            return update
        item = self.add_file(f"{kind}s" if kind != "audio" else "music", data, size=size)
        shapes: dict[str, dict[str, Any]] = {
            "document": {
                "file_name": file_name or "file.bin",
                "mime_type": mime_type or "application/octet-stream",
            },
            "voice": {"duration": 3, "mime_type": "audio/ogg"},
            "audio": {
                "duration": 180,
                "title": "Song",
                "file_name": file_name or "song.mp3",
                "mime_type": "audio/mpeg",
            },
            "video": {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"},
            "sticker": {
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "🙂",
            },
        }
        message[kind] = {**item, **shapes[kind]}
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Offer ``update`` (again: a server that lost the confirmation of an offset)."""
        self.updates.append(update)
        self._poke()

    def _poke(self) -> None:
        self._arrived.set()
        self._arrived = trio.Event()

    async def post_update(
        self,
        url: str,
        body: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST one delivery to ``url`` the way Telegram's webhook sender does (JSON body, the
        secret header when there is a secret: ``secret`` or else the one of ``setWebhook``)."""
        secret = secret if secret is not None else self.webhook.get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        if http is not None:
            return await http.post(url, content=content, headers=headers)
        async with httpx.AsyncClient() as client:
            return await client.post(url, content=content, headers=headers)

    async def _push(self) -> None:
        """Telegram's webhook sender: the oldest pending update to the tunnel until it takes it."""
        async with httpx.AsyncClient() as http:
            while True:
                if not (self.webhook and self.tunnel and self.updates):
                    await self._arrived.wait()
                    continue
                update = min(self.updates, key=lambda u: u["update_id"])
                try:
                    response = await self.post_update(self.tunnel, update, http=http)
                except httpx.HTTPError:
                    self.deliveries.append(0)
                else:
                    self.deliveries.append(response.status_code)
                    if response.is_success:
                        self.updates.remove(update)
                        continue
                with trio.move_on_after(0.05):  # Telegram retries failed deliveries later
                    await self._arrived.wait()

    def fail_next(
        self, method: str, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        self._failures.append((method, code, description, parameters))

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def go_down(self) -> None:
        """Stop listening (open connections are dropped); clients see connection errors."""
        self._outage.go_down()

    def come_up(self) -> None:
        self._outage.come_up()

    # ------------------------------------------------------------ server

    def _reply(self, result: Any) -> JSONResponse:
        return JSONResponse({"ok": True, "result": result})

    def _error(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return JSONResponse(body, status_code=code)

    async def endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.path_params["method"]
        params: dict[str, Any] = dict(request.query_params)
        if await request.body():
            params.update(await request.json())
        peer = f"{request.client.host}:{request.client.port}" if request.client else ""
        self.calls.append(Call(method, params, peer))
        for i, (m, code, description, parameters) in enumerate(self._failures):
            if m == method:
                del self._failures[i]
                return self._error(code, description, parameters)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        return await handler(params)

    async def m_getMe(self, params: dict[str, Any]) -> JSONResponse:
        return self._reply({**self.bot, "can_join_groups": True, "can_read_all_group_messages": False})

    async def m_getUpdates(self, params: dict[str, Any]) -> JSONResponse:
        if self.webhook:
            return self._error(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        with trio.move_on_after(float(params.get("timeout") or 0)):
            while not self.updates:
                await self._arrived.wait()
        return self._reply(
            sorted(self.updates, key=lambda u: u["update_id"])[: int(params.get("limit") or 100)]
        )

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = params["chat_id"]
        return {
            "message_id": next(self._message_ids),
            "from": self.bot,
            "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
            "date": int(time.time()),
            **content,
        }

    async def m_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        text = params.get("text") or ""
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        visible = len(text)
        if params.get("parse_mode") == "HTML":
            try:
                visible = parse_html(text)
            except ValueError as exc:
                return self._error(400, f"Bad Request: can't parse entities: {exc}")
        if visible > 4096:
            return self._error(400, "Bad Request: message is too long")
        return self._reply(self._message(params, text=text))

    async def m_sendChatAction(self, params: dict[str, Any]) -> JSONResponse:
        if params.get("action") not in ("typing", "upload_photo", "upload_document", "record_voice"):
            return self._error(400, "Bad Request: wrong parameter action in request")
        return self._reply(True)

    async def m_sendPhoto(self, params: dict[str, Any]) -> JSONResponse:
        photo = [{"file_id": "AgACAgIAAx-sent", "file_unique_id": "p", "width": 800, "height": 600}]
        return self._reply(self._message(params, photo=photo, caption=params.get("caption")))

    async def m_sendDocument(self, params: dict[str, Any]) -> JSONResponse:
        document = {"file_id": "BQACAgIAAx-sent", "file_unique_id": "d", "file_name": "file"}
        return self._reply(self._message(params, document=document, caption=params.get("caption")))

    async def m_setWebhook(self, params: dict[str, Any]) -> JSONResponse:
        url = params.get("url") or ""
        if not url:
            return await self.m_deleteWebhook(params)
        if not url.startswith("https://"):
            return self._error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            return self._error(400, "Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        self._poke()
        return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})

    async def m_deleteWebhook(self, params: dict[str, Any]) -> JSONResponse:
        was_set = bool(self.webhook)
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        description = "Webhook was deleted" if was_set else "Webhook is already deleted"
        return JSONResponse({"ok": True, "result": True, "description": description})

    async def m_getWebhookInfo(self, params: dict[str, Any]) -> JSONResponse:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook:
            info["max_connections"] = 40
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return self._reply(info)

    async def m_getFile(self, params: dict[str, Any]) -> JSONResponse:
        file_id = params.get("file_id") or ""
        stored = self.files.get(file_id)
        if stored is None:
            return self._error(400, "Bad Request: invalid file_id")
        result: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id[-4:]}",
            "file_size": stored.size,
        }
        if stored.size > MAX_DOWNLOAD:
            return self._error(400, "Bad Request: file is too big")
        self._issued.add(stored.path)
        return self._reply({**result, "file_path": stored.path})

    async def file(self, request: Request) -> Response:
        self.downloads.append(request.url.path)
        if request.path_params["token"] != self.token:
            return self._error(401, "Unauthorized")
        path = request.path_params["path"]
        stored = next((f for f in self.files.values() if f.path == path), None)
        if stored is None or path not in self._issued:
            return self._error(404, "Not Found")
        return Response(stored.data, media_type="application/octet-stream")

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve on a free loopback port (kept across :meth:`go_down`/:meth:`come_up`)."""
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self.endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self.file, methods=["GET"]),
            ]
        )
        async with trio.open_nursery() as outer:
            outer.start_soon(self._push)
            self.base_url = await outer.start(self._outage.serve, app)
            task_status.started(self.base_url)

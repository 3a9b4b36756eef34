"""A protocol-faithful fake Telegram Bot API server on loopback (hypercorn + starlette on trio).

Speaks ``/bot<token>/<method>`` with JSON or query parameters and answers with the Bot API's
envelope (``{"ok": true, "result"}`` / ``{"ok": false, "error_code", "description",
"parameters"}``). ``getUpdates`` long-polls and confirms updates below ``offset``; sendMessage
checks the 4096-character limit and HTML ``parse_mode`` markup like the real server. Tests push
updates with :meth:`FakeTelegram.user_says`, script errors with :meth:`fail_next`, and take
the server down and up again with :meth:`go_down` / :meth:`come_up`.
"""

from __future__ import annotations

import functools
import html.parser
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
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


@dataclass
class FakeTelegram:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _failures: list[tuple[str, int, str, dict[str, Any] | None]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _message_ids: Any = field(default_factory=lambda: itertools.count(5001))
    _arrived: trio.Event = field(default_factory=trio.Event)
    _up: trio.Event = field(default_factory=trio.Event)
    _down: trio.Event = field(default_factory=trio.Event)

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
                "from": BOT,
                "chat": chat,
                "date": 0,
                "text": "hi",
            }
        update = {
            "update_id": update_id if update_id is not None else next(self._ids) + 100000,
            "message": message,
        }
        self.updates.append(update)
        self._arrived.set()
        self._arrived = trio.Event()
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Offer ``update`` again (a server that lost the confirmation of an offset)."""
        self.updates.append(update)
        self._arrived.set()
        self._arrived = trio.Event()

    def fail_next(
        self, method: str, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        self._failures.append((method, code, description, parameters))

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def go_down(self) -> None:
        """Stop listening (open connections are dropped); clients see connection errors."""
        self._down.set()

    def come_up(self) -> None:
        self._up.set()

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
        self.calls.append(Call(method, params))
        for i, (m, code, description, parameters) in enumerate(self._failures):
            if m == method:
                del self._failures[i]
                return self._error(code, description, parameters)
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        return await handler(params)

    async def m_getMe(self, params: dict[str, Any]) -> JSONResponse:
        return self._reply({**BOT, "can_join_groups": True, "can_read_all_group_messages": False})

    async def m_getUpdates(self, params: dict[str, Any]) -> JSONResponse:
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
            "from": BOT,
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

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve on a free loopback port (kept across :meth:`go_down`/:meth:`come_up`)."""
        app = Starlette(routes=[Route("/bot{token}/{method}", self.endpoint, methods=["GET", "POST"])])
        bind = "127.0.0.1:0"
        while True:
            config = HypercornConfig()
            config.bind = [bind]
            config.accesslog = None
            config.errorlog = None
            config.graceful_timeout = 0.05
            async with trio.open_nursery() as nursery:
                binds = await nursery.start(functools.partial(serve, app, config))  # type: ignore[arg-type]
                if not self.base_url:
                    self.base_url = binds[0]
                    bind = binds[0].removeprefix("http://")
                    task_status.started(self.base_url)
                await self._down.wait()
                nursery.cancel_scope.cancel()
            self._down = trio.Event()
            await self._up.wait()
            self._up = trio.Event()

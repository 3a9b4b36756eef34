"""A protocol-faithful fake of Meta's side of the WhatsApp Cloud API, on loopback.

Graph API: ``GET /{version}/{phone-number-id}`` and ``POST /{version}/{phone-number-id}/messages``
with bearer auth, Meta's error envelope (``{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}``) and its success shapes (``messages[0].id`` = a new
``wamid``; ``{"success": true}`` for read receipts / typing). Webhooks: :meth:`deliver` POSTs a
``whatsapp_business_account`` payload to the app's callback URL signed with
``X-Hub-Signature-256`` exactly as Meta does, and :meth:`verify` performs the subscription
handshake.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCESS_TOKEN = "EAAGtestaccesstoken0123456789"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "verify-me-please-42"
WABA_ID = "102290129340398"
USER = "16505551234"


def wamid() -> str:
    return "wamid.HBgL" + secrets.token_hex(12).upper()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class FakeWhatsApp:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""
    _failures: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _ts: Any = field(default_factory=lambda: itertools.count(int(time.time())))
    _up: trio.Event = field(default_factory=trio.Event)
    _down: trio.Event = field(default_factory=trio.Event)

    # ------------------------------------------------------------ scripting

    def fail_next(
        self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        """The next Graph API call answers ``status`` with error ``code``."""
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"}
        if code == 190:
            error["error_subcode"] = 463
        self._failures.append((status, error, headers or {}))

    def sent(self) -> list[dict[str, Any]]:
        """Bodies of POST /messages that sent a message (not read receipts)."""
        return [b for path, b in self.calls if path.endswith("/messages") and "type" in b]

    def receipts(self) -> list[dict[str, Any]]:
        return [b for path, b in self.calls if path.endswith("/messages") and b.get("status") == "read"]

    # ------------------------------------------------------------ webhook payloads

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
        }

    def message(
        self, kind: str, content: dict[str, Any], *, sender: str = USER, context: str | None = None
    ) -> dict[str, Any]:
        """A ``messages`` webhook payload from ``sender``."""
        message: dict[str, Any] = {
            "from": sender,
            "id": wamid(),
            "timestamp": str(next(self._ts)),
            "type": kind,
            kind: content,
        }
        if context:
            message["context"] = {"from": "15550001111", "id": context}
        contacts = [{"profile": {"name": "Kerry Fisher"}, "wa_id": sender}]
        return self._envelope({"contacts": contacts, "messages": [message]})

    def text(self, body: str, **kw: Any) -> dict[str, Any]:
        return self.message("text", {"body": body}, **kw)

    def status(self, message_id: str, status: str, *, error: tuple[int, str] | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": message_id,
            "status": status,
            "timestamp": str(next(self._ts)),
            "recipient_id": USER,
        }
        if error:
            item["errors"] = [{"code": error[0], "title": error[1]}]
        return self._envelope({"statuses": [item]})

    async def deliver(
        self, url: str, payload: dict[str, Any], *, secret: str = APP_SECRET, signature: str | None = None
    ) -> httpx.Response:
        """POST ``payload`` to the callback ``url`` the way Meta's webhook sender does."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": signature if signature is not None else sign(body, secret),
        }
        async with httpx.AsyncClient() as http:
            return await http.post(url, content=body, headers=headers)

    async def verify(self, url: str, token: str = VERIFY_TOKEN) -> httpx.Response:
        params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": token}
        async with httpx.AsyncClient() as http:
            return await http.get(url, params=params)

    # ------------------------------------------------------------ Graph API

    def _error(
        self, status: int, error: dict[str, Any], headers: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse({"error": error}, status_code=status, headers=headers)

    def _auth(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._error(
                401,
                {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException",
                    "code": 190,
                    "fbtrace_id": "AzZ",
                },
            )
        if self._failures:
            status, error, headers = self._failures.pop(0)
            return self._error(status, error, headers)
        return None

    def _bad(self, message: str) -> JSONResponse:
        return self._error(
            400, {"message": message, "type": "OAuthException", "code": 100, "fbtrace_id": "AbC"}
        )

    async def phone(self, request: Request) -> JSONResponse:
        self.calls.append((request.url.path, dict(request.query_params)))
        if (denied := self._auth(request)) is not None:
            return denied
        if request.path_params["pnid"] != PHONE_NUMBER_ID:
            return self._bad(
                f"Unsupported get request. Object with ID '{request.path_params['pnid']}' does not exist"
            )
        return JSONResponse(
            {"display_phone_number": "+1 555-000-1111", "verified_name": "Molt Test", "id": PHONE_NUMBER_ID}
        )

    async def messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append((request.url.path, body))
        if (denied := self._auth(request)) is not None:
            return denied
        if body.get("messaging_product") != "whatsapp":
            return self._bad("(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":
            if not str(body.get("message_id", "")).startswith("wamid."):
                return self._bad("(#100) Invalid parameter")
            return JSONResponse({"success": True})
        kind = body.get("type")
        if kind == "text":
            text = (body.get("text") or {}).get("body") or ""
            if not text:
                return self._bad("(#100) The parameter text['body'] is required.")
            if len(text) > 4096:
                return self._bad("(#100) Param text['body'] must be at most 4096 characters long.")
        elif kind in ("image", "document", "audio", "video"):
            item = body.get(kind) or {}
            if not (item.get("link") or item.get("id")):
                return self._bad(f"(#100) The parameter {kind}['link'] or {kind}['id'] is required.")
        else:
            return self._bad("(#100) Param type must be one of {TEXT, IMAGE, DOCUMENT, AUDIO, VIDEO, ...}")
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid()}],
            }
        )

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        app = Starlette(
            routes=[
                Route("/{version}/{pnid}/messages", self.messages, methods=["POST"]),
                Route("/{version}/{pnid}", self.phone, methods=["GET"]),
            ]
        )
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

    def go_down(self) -> None:
        """Stop listening (connections refused) until :meth:`come_up`, on the same port."""
        self._down.set()

    def come_up(self) -> None:
        self._up.set()

"""A protocol-faithful fake of Meta's side of the WhatsApp Cloud API, on loopback.

Graph API: ``GET /{version}/{phone-number-id}``, ``POST /{version}/{phone-number-id}/messages``
and ``GET /{version}/{media-id}`` (``{url, mime_type, sha256, file_size, id,
messaging_product}``) with bearer auth, Meta's error envelope (``{"error": {"message", "type",
"code", "error_subcode", "fbtrace_id"}}``) and its success shapes (``messages[0].id`` = a new
``wamid``; ``{"success": true}`` for read receipts / typing). Media bytes are served at the
short-lived lookaside-style URL, which also demands the bearer token and answers 404 once
expired. Several business numbers (accounts), each with its own token, can be added with
:meth:`add_number`. Webhooks: :meth:`deliver` POSTs a ``whatsapp_business_account`` payload to
the app's callback URL signed with ``X-Hub-Signature-256`` exactly as Meta does, and
:meth:`verify` performs the subscription handshake.
"""

from __future__ import annotations

import base64
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
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.testing.loopback import Outage

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


def _oauth_error() -> dict[str, Any]:
    return {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
        "fbtrace_id": "AzZ",
    }


def _unknown_object(object_id: str) -> dict[str, Any]:
    return {
        "message": f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the "
        "Graph API documentation at https://developers.facebook.com/docs/graph-api",
        "type": "GraphMethodException",
        "code": 100,
        "error_subcode": 33,
        "fbtrace_id": "AxY",
    }


@dataclass
class StoredMedia:
    data: bytes
    mime_type: str
    sha256: str
    file_size: int


@dataclass
class FakeWhatsApp:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""
    numbers: dict[str, str] = field(default_factory=lambda: {PHONE_NUMBER_ID: ACCESS_TOKEN})
    """Business phone number id -> the access token that may use it."""
    media: dict[str, StoredMedia] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    """Media ids whose bytes were served."""
    hold_downloads: trio.Event | None = None
    """While set and not yet triggered, media downloads hang (a stalled CDN)."""
    _expire: int = 0
    _failures: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    _ts: Any = field(default_factory=lambda: itertools.count(int(time.time())))
    _outage: Outage = field(default_factory=Outage)

    # ------------------------------------------------------------ scripting

    def fail_next(
        self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        """The next Graph API call answers ``status`` with error ``code``."""
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"}
        if code == 190:
            error["error_subcode"] = 463
        self._failures.append((status, error, headers or {}))

    def add_number(self, phone_number_id: str, token: str) -> None:
        """Another business phone number of the same app (a second account)."""
        self.numbers[phone_number_id] = token

    def add_media(
        self, data: bytes, mime_type: str, *, sha256: str | None = None, file_size: int | None = None
    ) -> str:
        """Store an upload as if a user had sent it; returns its media id. ``sha256`` and
        ``file_size`` override what the lookup announces (to script a corrupt or lying server)."""
        media_id = str(1479537139650000 + len(self.media))
        digest = sha256 or hashlib.sha256(data).hexdigest()
        size = len(data) if file_size is None else file_size
        self.media[media_id] = StoredMedia(data, mime_type, digest, size)
        return media_id

    def expire_next_urls(self, count: int = 1) -> None:
        """The next ``count`` media URLs are already expired when fetched (404)."""
        self._expire += count

    def sent(self) -> list[dict[str, Any]]:
        """Bodies of POST /messages that sent a message (not read receipts)."""
        return [b for path, b in self.calls if path.endswith("/messages") and "type" in b]

    def receipts(self) -> list[dict[str, Any]]:
        return [b for path, b in self.calls if path.endswith("/messages") and b.get("status") == "read"]

    # ------------------------------------------------------------ webhook payloads

    def _envelope(self, value: dict[str, Any], phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
        }

    def message(
        self,
        kind: str,
        content: dict[str, Any],
        *,
        sender: str = USER,
        context: str | None = None,
        context_from: str = "15550001111",
        group_id: str | None = None,
        phone_number_id: str = PHONE_NUMBER_ID,
    ) -> dict[str, Any]:
        """A ``messages`` webhook payload from ``sender`` (in group ``group_id`` if given)."""
        message: dict[str, Any] = {
            "from": sender,
            "id": wamid(),
            "timestamp": str(next(self._ts)),
            "type": kind,
            kind: content,
        }
        if group_id:
            message["group_id"] = group_id
        if context:
            message["context"] = {"from": context_from, "id": context}
        contacts = [{"profile": {"name": "Kerry Fisher"}, "wa_id": sender}]
        return self._envelope({"contacts": contacts, "messages": [message]}, phone_number_id)

    def media_message(self, kind: str, media_id: str, **content: Any) -> dict[str, Any]:
        """An image/audio/video/document/sticker message for a stored upload."""
        stored = self.media.get(media_id)
        item = {"mime_type": stored.mime_type if stored else "image/jpeg", "id": media_id, **content}
        if stored:
            item["sha256"] = base64.b64encode(hashlib.sha256(stored.data).digest()).decode()
        return self.message(kind, item)

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

    def _token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None

    def _auth(self, request: Request, phone_number_id: str | None = None) -> JSONResponse | None:
        """401 code 190 unless the bearer token is valid (for ``phone_number_id`` if given)."""
        token = self._token(request)
        if phone_number_id in self.numbers:
            allowed = {self.numbers[phone_number_id]}
        else:
            allowed = set(self.numbers.values())
        if token is None or token not in allowed:
            return self._error(401, _oauth_error())
        if self._failures:
            status, error, headers = self._failures.pop(0)
            return self._error(status, error, headers)
        return None

    def _bad(self, message: str) -> JSONResponse:
        return self._error(
            400, {"message": message, "type": "OAuthException", "code": 100, "fbtrace_id": "AbC"}
        )

    async def node(self, request: Request) -> JSONResponse:
        """``GET /{version}/{id}``: a phone number's details or a media item's download URL."""
        node = request.path_params["node"]
        self.calls.append((request.url.path, dict(request.query_params)))
        if (denied := self._auth(request, node if node in self.numbers else None)) is not None:
            return denied
        if node in self.numbers:
            return JSONResponse(
                {"display_phone_number": "+1 555-000-1111", "verified_name": "Molt Test", "id": node}
            )
        stored = self.media.get(node)
        if stored is None:
            return self._error(400, _unknown_object(node))
        expires = int(time.time()) + 300 if not self._expire else int(time.time()) - 1
        self._expire = max(0, self._expire - 1)
        return JSONResponse(
            {
                "url": f"{self.base_url}/whatsapp_business/attachments/?mid={node}&ext={expires}"
                f"&hash={secrets.token_urlsafe(8)}",
                "mime_type": stored.mime_type,
                "sha256": stored.sha256,
                "file_size": str(stored.file_size),
                "id": node,
                "messaging_product": "whatsapp",
            }
        )

    async def attachment(self, request: Request) -> Response:
        """The lookaside download: bearer token required, 404 once the URL's five minutes passed."""
        if self._token(request) not in set(self.numbers.values()):
            return self._error(401, _oauth_error())
        if self.hold_downloads is not None:
            await self.hold_downloads.wait()
        media_id = request.query_params.get("mid", "")
        stored = self.media.get(media_id)
        if stored is None or int(request.query_params.get("ext", "0")) < time.time():
            return Response(b"URL signature expired", status_code=404, media_type="text/plain")
        self.downloads.append(media_id)
        return Response(stored.data, media_type=stored.mime_type)

    async def messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append((request.url.path, body))
        if (denied := self._auth(request, request.path_params["pnid"])) is not None:
            return denied
        if request.path_params["pnid"] not in self.numbers:
            return self._error(400, _unknown_object(request.path_params["pnid"]))
        if body.get("messaging_product") != "whatsapp":
            return self._bad("(#100) The parameter messaging_product is required.")
        if body.get("recipient_type", "individual") not in ("individual", "group"):
            return self._bad("(#100) Param recipient_type must be one of {INDIVIDUAL, GROUP}")
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
                Route("/whatsapp_business/attachments/", self.attachment, methods=["GET"]),
                Route("/{version}/{pnid}/messages", self.messages, methods=["POST"]),
                Route("/{version}/{node}", self.node, methods=["GET"]),
            ]
        )
        async with trio.open_nursery() as nursery:
            self.base_url = await nursery.start(self._outage.serve, app)
            task_status.started(self.base_url)

    def go_down(self) -> None:
        """Stop listening (connections refused) until :meth:`come_up`, on the same port."""
        self._outage.go_down()

    def come_up(self) -> None:
        self._outage.come_up()

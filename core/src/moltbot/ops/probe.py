"""``security audit --deep``: ask the running gateway, over its WebSocket protocol, whether it
really refuses unauthenticated clients and foreign browser origins.

Protocol (openclaw.md §1.2): the server sends the ``connect.challenge`` event, the client's first
frame is ``req connect``; ``res ok`` with ``hello-ok`` means admitted. A refusal is an HTTP error
on the upgrade, a close, or an error response naming auth/origin/pairing. Anything else (protocol
mismatch, a malformed reply) makes the probe inconclusive rather than reassuring.
"""

from __future__ import annotations

import json
import ssl
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
)

from moltbot import __version__
from moltbot.ops.context import OpsContext
from moltbot.ops.findings import Finding

FOREIGN_ORIGIN = "https://probe.invalid"
_REFUSAL_WORDS = ("auth", "unauthor", "token", "password", "origin", "forbidden", "pair", "denied")

Outcome = Literal["admitted", "refused", "inconclusive", "unreachable"]


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    detail: str


def connect_frame(auth: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "req",
        "id": str(uuid.uuid4()),
        "method": "connect",
        "params": {
            "minProtocol": 3,
            "maxProtocol": 4,
            "client": {"id": "cli", "version": __version__, "platform": sys.platform, "mode": "cli"},
            "role": "operator",
            "scopes": ["operator.read"],
            "caps": [],
            "auth": auth,
            "userAgent": f"moltbot-security-audit/{__version__}",
        },
    }


def _classify(reply: dict[str, Any]) -> Attempt:
    if reply.get("ok") is True:
        return Attempt("admitted", "connect answered ok (hello-ok)")
    error = reply.get("error") or {}
    details = error.get("details") or {}
    text = " ".join(str(x) for x in (error.get("code"), error.get("message"), details.get("code"))).lower()
    if "protocol" in text and "mismatch" in text:
        return Attempt("inconclusive", f"protocol mismatch: {error}")
    if any(word in text for word in _REFUSAL_WORDS):
        return Attempt("refused", f"{error.get('code')}: {error.get('message')}")
    return Attempt("inconclusive", f"unexpected error {error}")


async def _exchange(ws: WebSocketConnection, auth: dict[str, str]) -> Attempt:
    first = json.loads(await ws.get_message())
    if first.get("event") != "connect.challenge":
        return Attempt("inconclusive", f"first frame was not connect.challenge: {first}")
    frame = connect_frame(auth)
    await ws.send_message(json.dumps(frame))
    while True:
        reply = json.loads(await ws.get_message())
        if reply.get("type") == "res" and reply.get("id") == frame["id"]:
            return _classify(reply)


async def _open(url: str) -> trio.abc.Stream:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "wss" else 80
    stream: trio.abc.Stream = await trio.open_tcp_stream(parts.hostname or "127.0.0.1", parts.port or default)
    if parts.scheme == "wss":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # probing the policy of our own gateway, not its certificate
        stream = trio.SSLStream(stream, context, server_hostname=parts.hostname)
    return stream


async def _handshake(
    nursery: trio.Nursery, stream: trio.abc.Stream, url: str, auth: dict[str, str], origin: str | None
) -> Attempt:
    parts = urlsplit(url)
    headers = [(b"origin", origin.encode())] if origin else []
    ws = await wrap_client_stream(
        nursery,
        stream,  # type: ignore[arg-type]
        parts.netloc,
        parts.path or "/",
        extra_headers=headers,
    )
    try:
        return await _exchange(ws, auth)
    finally:
        with trio.move_on_after(1):
            await ws.aclose()


async def attempt(url: str, auth: dict[str, str], origin: str | None, timeout: float = 5.0) -> Attempt:
    """One connect handshake; never raises for network or protocol trouble.

    The TCP stream is opened and closed here (not by ``open_websocket_url``) so that a refused
    upgrade never leaks the socket; trio-websocket's reader task reports a refusal through the
    nursery, hence ``except*``."""
    result = Attempt("inconclusive", "no answer")
    try:
        with trio.fail_after(timeout):
            stream = await _open(url)
            async with stream, trio.open_nursery() as nursery:
                result = await _handshake(nursery, stream, url, auth, origin)
                nursery.cancel_scope.cancel()
    except* ConnectionRejected as group:
        status = getattr(group.exceptions[0], "status_code", "?")
        result = Attempt("refused", f"upgrade refused with HTTP {status}")
    except* ConnectionClosed as group:
        result = Attempt("refused", f"closed: {getattr(group.exceptions[0], 'reason', '')}")
    except* (HandshakeError, OSError, trio.BrokenResourceError) as group:
        exc = group.exceptions[0]
        result = Attempt("unreachable", f"{type(exc).__name__}: {exc or exc.__cause__}")
    except* trio.TooSlowError:
        result = Attempt("inconclusive", f"no answer within {timeout:g}s")
    except* ValueError as group:
        result = Attempt("inconclusive", f"not JSON: {group.exceptions[0]}")
    return result


def gateway_url(ctx: OpsContext) -> str:
    from moltbot.ops.portcheck import bind_host

    host = bind_host(ctx.get("gateway.bind", "loopback"), ctx.get("gateway.customBindHost"))
    host = "127.0.0.1" if host == "0.0.0.0" else host
    scheme = "wss" if ctx.get("gateway.ssl.enabled") else "ws"
    return f"{scheme}://{host}:{ctx.port()}/"


def credentials(ctx: OpsContext) -> dict[str, str]:
    mode = ctx.get("gateway.auth.mode", "token")
    secret = ctx.get(f"gateway.auth.{mode}") if mode in ("token", "password") else None
    return {mode: secret} if secret else {}


async def probe_findings(ctx: OpsContext, url: str | None = None, timeout: float = 5.0) -> list[Finding]:
    url = url or gateway_url(ctx)
    anonymous = await attempt(url, {}, None, timeout)
    if anonymous.outcome == "unreachable":
        return [
            Finding(
                "gateway.probe_failed",
                "warn",
                "could not reach the gateway for the live probe",
                f"{url}: {anonymous.detail}",
                "start it (moltbot run) and re-run with --deep",
                data={"url": url},
            )
        ]
    foreign = await attempt(url, credentials(ctx), FOREIGN_ORIGIN, timeout)
    found: list[Finding] = []
    if anonymous.outcome == "admitted":
        found.append(
            Finding(
                "gateway.probe.auth_not_required",
                "critical",
                "the running gateway admits clients without credentials",
                f"{url}: {anonymous.detail}",
                "set gateway.auth (token or password) and restart the gateway",
                data={"url": url},
            )
        )
    if foreign.outcome == "admitted":
        found.append(
            Finding(
                "gateway.probe.origin_not_enforced",
                "critical",
                "the running gateway accepts a foreign browser Origin",
                f"Origin {FOREIGN_ORIGIN} was admitted at {url}",
                "a web page could drive the gateway; restrict gateway.controlUi.allowedOrigins",
                data={"url": url},
            )
        )
    inconclusive = [a for a in (anonymous, foreign) if a.outcome in ("inconclusive", "unreachable")]
    if inconclusive:
        found.append(
            Finding(
                "gateway.probe_failed",
                "warn",
                "the live probe was inconclusive",
                "; ".join(a.detail for a in inconclusive),
                "check the gateway's logs",
                data={"url": url},
            )
        )
    if not found:
        found.append(
            Finding(
                "gateway.probe.passed",
                "info",
                "the running gateway refused both probes",
                f"no credentials: {anonymous.detail}; foreign origin: {foreign.detail}",
                "",
                data={"url": url},
            )
        )
    return found

"""Socket Mode: events over a WebSocket whose URL ``apps.connections.open`` hands out.

Slack sends ``hello`` first, then envelopes ``{envelope_id, type, payload,
accepts_response_payload, retry_attempt, retry_reason}``. Every envelope is acknowledged by
sending back ``{"envelope_id"}`` once its event is safely accepted (an envelope left
unacknowledged is delivered again, on this or the next connection). ``disconnect`` asks for a
new connection: ``refresh_requested`` and ``warning`` (routine recycling) and
``too_many_websockets`` open a fresh URL at once; ``link_disabled`` (Socket Mode was turned
off for the app) is fatal. A connection that drops without ``disconnect`` raises, and the
channels supervisor restarts the channel with backoff.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import trio
from loguru import logger
from trio_websocket import ConnectionClosed, HandshakeError, WebSocketConnection, wrap_client_stream

from moltbot import ChannelFatalError
from moltbot_slack.api import WebApi

PING_INTERVAL = 30.0
"""Quiet seconds before we ping; a missing pong within ``timeout`` drops the connection (a
half-open socket would otherwise go deaf without noticing)."""

Accept = Callable[[dict[str, Any]], bool]
"""Takes an ``events_api`` payload; False when it could not be accepted (left unacknowledged)."""


async def _next(ws: WebSocketConnection, timeout: float) -> dict[str, Any]:
    """The next message; after :data:`PING_INTERVAL` quiet seconds a ping must be answered."""
    while True:
        with trio.move_on_after(PING_INTERVAL):
            return json.loads(await ws.get_message())
        with trio.move_on_after(timeout) as waited:
            await ws.ping()
        if waited.cancelled_caught:
            raise ConnectionError(f"Slack's Socket Mode server did not answer a ping within {timeout} s")


async def _connection(
    ws: WebSocketConnection, accept: Accept, label: str, on_hello: Callable[[], None], timeout: float
) -> str:
    """Serve one connection until Slack asks for another; the ``disconnect`` reason."""
    with trio.fail_after(timeout):
        hello = json.loads(await ws.get_message())
    if hello.get("type") != "hello":
        raise ConnectionError(f"Slack's first Socket Mode message was {hello.get('type')!r}, not hello")
    on_hello()
    while True:
        envelope = await _next(ws, timeout)
        kind = envelope.get("type")
        if kind == "disconnect":
            return str(envelope.get("reason") or "unknown")
        envelope_id = envelope.get("envelope_id")
        if not envelope_id:
            logger.debug("{}: ignoring a Socket Mode message of type {}", label, kind)
            continue
        if kind == "events_api" and not accept(envelope.get("payload") or {}):
            continue  # not acknowledged: Slack delivers it again
        await ws.send_message(json.dumps({"envelope_id": envelope_id}))


async def _open_stream(url: str, timeout: float) -> trio.abc.Stream:
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    with trio.fail_after(timeout):
        if secure:
            context = ssl.create_default_context()
            return await trio.open_ssl_over_tcp_stream(parts.hostname or "", port, ssl_context=context)
        return await trio.open_tcp_stream(parts.hostname or "", port)


async def _session(url: str, accept: Accept, label: str, on_hello: Callable[[], None], timeout: float) -> str:
    """One WebSocket connection from handshake to ``disconnect``; its reason.

    The TCP stream is ours, not trio-websocket's: its client leaves the socket open when the
    server closes the connection first, so the stream is closed here whatever happens."""
    parts = urlsplit(url)
    resource = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
    try:
        stream = await _open_stream(url, timeout)
    except OSError as exc:
        raise ConnectionError(f"Slack Socket Mode connection failed ({type(exc).__name__})") from None
    failure: str | None = None
    reason = ""
    try:
        async with trio.open_nursery() as nursery:
            try:
                with trio.fail_after(timeout):
                    ws = await wrap_client_stream(nursery, stream, parts.hostname or "", resource)
                reason = await _connection(ws, accept, label, on_hello, timeout)
                with trio.move_on_after(1):
                    await ws.aclose()
            except (ConnectionClosed, HandshakeError, trio.BrokenResourceError, trio.TooSlowError) as exc:
                failure = type(exc).__name__
            nursery.cancel_scope.cancel()
    finally:
        await trio.aclose_forcefully(stream)
    if failure is not None:
        raise ConnectionError(f"Slack Socket Mode connection lost ({failure})")
    return reason


async def receive(
    api: WebApi, accept: Accept, *, label: str, timeout: float, on_hello: Callable[[], None]
) -> None:
    """Keep a Socket Mode connection up until cancelled, handing events to ``accept``."""
    while True:
        url = (await api.call("apps.connections.open"))["url"]
        reason = await _session(url, accept, label, on_hello, timeout)
        if reason == "link_disabled":
            raise ChannelFatalError(
                "Slack disabled this app's Socket Mode link (link_disabled); turn Socket Mode on in the"
                " app settings, or use mode: 'http'"
            )
        logger.info("{}: Slack asked for a new Socket Mode connection ({})", label, reason)

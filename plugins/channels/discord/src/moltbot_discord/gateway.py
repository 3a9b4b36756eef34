"""One bot's Discord Gateway (v10, JSON) session over successive WebSocket connections.

Per connection: HELLO (op 10) gives ``heartbeat_interval``; the first HEARTBEAT (op 1, the
last sequence number) goes out after ``interval * random()``, then every interval, and each
must be acknowledged (op 11) before the next is due, else the connection is a zombie and is
closed. Then IDENTIFY (op 2: token, intents) starts a session, answered by READY (session id,
``resume_gateway_url``, the bot user), or RESUME (op 6: session id and last ``seq``) continues
one: Discord replays the events after ``seq`` and sends RESUMED.

Dispatches (op 0) are handled in order by a separate task, so a slow handler (an attachment
download) never starves the heartbeat ACKs; ``seq`` only moves past an event once it was
handled, so a connection lost in between gets that event again on resume (the channels
service drops the duplicate, if any).

Endings: RECONNECT (op 7) and a resumable INVALID_SESSION (op 9, ``d: true``) return from
:meth:`Gateway.connect` so the caller resumes at once. Everything else raises: close codes
4004 and 4010-4014 as :class:`ChannelFatalError` (a retry cannot fix a bad token or intents the
bot may not use); 4007, 4009 and a non-resumable op 9 forget the session (the next connection
identifies afresh); other closes and network errors keep it for a resume. The supervisor's
backoff spaces the retries, which also gives op 9's requested 1-5 s pause.
"""

from __future__ import annotations

import json
import math
import random
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import trio
import trio_websocket
from loguru import logger

from moltbot import ChannelFatalError

DISPATCH, HEARTBEAT, IDENTIFY, RESUME = 0, 1, 2, 6
RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 9, 10, 11
RESUMING_CLOSE = 4000
"""The code this client closes with to keep the session resumable (1000/1001 would end it)."""
QUERY = "?v=10&encoding=json"
EVENT_BUFFER = 256

FATAL_CLOSES = {
    4004: "Discord rejected the bot token (close 4004 Authentication failed); set channels.discord.botToken"
    " to the bot's token (Developer Portal, Bot, Reset Token)",
    4010: "Discord refused the shard (close 4010 Invalid shard)",
    4011: "the bot is in too many guilds for one connection (close 4011 Sharding required); sharding is"
    " not supported",
    4012: "Discord refused the Gateway version (close 4012 Invalid API version)",
    4013: "Discord refused the intents (close 4013 Invalid intent(s)); check channels.discord.intents",
    4014: "Discord refused a privileged intent (close 4014 Disallowed intent(s)); enable MESSAGE CONTENT"
    " INTENT for the bot in the Developer Portal (Bot, Privileged Gateway Intents), or drop it from"
    " channels.discord.intents",
}
SESSION_ENDING_CLOSES = {4007, 4009}
"""Invalid seq, session timed out: reconnect with a fresh IDENTIFY."""

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]


@asynccontextmanager
async def open_websocket(url: str, *, timeout: float) -> AsyncIterator[trio_websocket.WebSocketConnection]:
    """A client WebSocket to ``url`` over a TCP (TLS for ``wss``) stream owned here, so the
    socket is closed however the connection ends (trio-websocket leaves a client's socket
    open after the server closed the WebSocket). Leaving on an error closes with
    :data:`RESUMING_CLOSE`, so the session can still be resumed."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with trio.fail_after(timeout):
        if secure:
            stream: trio.abc.Stream = await trio.open_ssl_over_tcp_stream(
                host, port, ssl_context=ssl.create_default_context(), https_compatible=True
            )
        else:
            stream = await trio.open_tcp_stream(host, port)
    async with stream, trio.open_nursery() as nursery:
        with trio.fail_after(timeout):
            ws = await trio_websocket.wrap_client_stream(nursery, stream, parts.netloc, resource)
        try:
            yield ws
        finally:
            # being cancelled (shutdown): the TCP close is the goodbye; the reader task that a
            # close handshake needs is cancelled too
            if trio.current_effective_deadline() != -math.inf:
                with trio.move_on_after(1):
                    await ws.aclose(RESUMING_CLOSE, "reconnecting")
            nursery.cancel_scope.cancel()


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


class InvalidSession(ConnectionError):
    """Discord ended the session (op 9, ``d: false``); the next connection identifies."""


class Gateway:
    """Session state kept across connections (and across the channel's restarts)."""

    def __init__(self, token: str, intents: int, *, label: str, timeout: float) -> None:
        self._token = token
        self.intents = intents
        self.label = label
        self.timeout = timeout
        self.session_id: str | None = None
        self.seq: int | None = None
        self.resume_url: str | None = None
        self.user_id = ""
        self.username: str | None = None
        self._acked = True
        self._ending: ConnectionError | None = None
        """Why this client is closing the connection, reported instead of the close itself."""

    @property
    def resumable(self) -> bool:
        return bool(self.session_id and self.resume_url)

    def forget_session(self) -> None:
        self.session_id = self.resume_url = None
        self.seq = None

    async def connect(self, url: str | None, handle: Handler, ready: Callable[[], None]) -> None:
        """Run one connection: to the session's ``resume_gateway_url`` to resume it, else to
        ``url`` to identify. ``handle(type, data)`` each dispatch in order, ``ready()`` after
        READY or RESUMED. Returns when Discord asks for a reconnect; raises on any other ending."""
        resuming = self.resumable
        base = self.resume_url if resuming else url
        if not base:
            raise ValueError("a Gateway URL is needed to identify")
        target = f"{base.rstrip('/')}/{QUERY}"
        try:
            async with open_websocket(target, timeout=self.timeout) as ws:
                hello = await self._receive(ws)
                if hello.get("op") != HELLO:
                    raise ConnectionError(f"the Gateway opened with op {hello.get('op')}, not HELLO")
                interval = float(hello["d"]["heartbeat_interval"]) / 1000
                send_event, receive_event = trio.open_memory_channel[dict[str, Any]](EVENT_BUFFER)
                async with trio.open_nursery() as nursery:
                    self._acked, self._ending = True, None
                    nursery.start_soon(self._heartbeat, ws, interval)
                    nursery.start_soon(self._process, receive_event, handle, ready)
                    await ws.send_message(json.dumps(self._resume() if resuming else self._identify()))
                    async with send_event:
                        await self._read(ws, send_event)
                    nursery.cancel_scope.cancel()
        except (trio_websocket.ConnectionClosed, BaseExceptionGroup) as exc:
            self._ended(exc)
        except trio_websocket.HandshakeError as exc:
            raise ConnectionError(f"the Gateway refused the connection: {exc!r}") from None
        except trio.TooSlowError:
            raise ConnectionError(f"no Gateway connection within {self.timeout:g} s") from None

    def _ended(self, exc: BaseException) -> None:
        """Raise what ended the connection: our own error (a zombie, an invalid session, a
        failed handler) before the close it caused, else the close mapped by its code."""
        leaves = list(_leaves(exc))
        if any(isinstance(leaf, trio.Cancelled) for leaf in leaves):
            raise exc  # shutting down: let the cancellation through untouched
        if self._ending is not None:
            raise self._ending
        for leaf in leaves:
            if not isinstance(leaf, trio_websocket.ConnectionClosed):
                raise leaf
        closed = next((leaf for leaf in leaves if isinstance(leaf, trio_websocket.ConnectionClosed)), None)
        if closed is None:
            raise exc
        self._closed(closed.reason.code, closed.reason.reason)

    def _closed(self, code: int | None, reason: str | None) -> None:
        if code in FATAL_CLOSES:
            raise ChannelFatalError(FATAL_CLOSES[code])
        if code in SESSION_ENDING_CLOSES:
            self.forget_session()
        raise ConnectionError(f"the Gateway closed the connection ({code} {reason or ''})".rstrip())

    async def _read(self, ws: trio_websocket.WebSocketConnection, events: trio.MemorySendChannel) -> None:
        """The receive loop; returns when the server asked for a reconnect."""
        while True:
            payload = await self._receive(ws)
            op = payload.get("op")
            if op == DISPATCH:
                await events.send(payload)
            elif op == HEARTBEAT:
                await self._beat(ws)
            elif op == HEARTBEAT_ACK:
                self._acked = True
            elif op == RECONNECT:
                logger.info("{}: Discord asked for a reconnect; resuming", self.label)
                await ws.aclose(RESUMING_CLOSE, "reconnect requested")
                return
            elif op == INVALID_SESSION:
                if not payload.get("d"):
                    self.forget_session()
                    self._ending = InvalidSession("Discord invalidated the session; identifying again")
                    await ws.aclose(1000, "session invalidated")
                    raise self._ending
                logger.info("{}: Discord invalidated the session but it may be resumed", self.label)
                await ws.aclose(RESUMING_CLOSE, "resuming")
                return

    async def _process(
        self, events: trio.MemoryReceiveChannel, handle: Handler, ready: Callable[[], None]
    ) -> None:
        async for payload in events:
            kind, data = payload.get("t"), payload.get("d") or {}
            if kind == "READY":
                self.session_id = data["session_id"]
                self.resume_url = str(data["resume_gateway_url"]).rstrip("/")
                self.user_id, self.username = str(data["user"]["id"]), data["user"].get("username")
                ready()
            elif kind == "RESUMED":
                ready()
            elif isinstance(kind, str):
                await handle(kind, data)
            if isinstance(payload.get("s"), int):
                self.seq = payload["s"]

    async def _heartbeat(self, ws: trio_websocket.WebSocketConnection, interval: float) -> None:
        await trio.sleep(interval * random.random())
        while True:
            if not self._acked:
                logger.warning("{}: the last heartbeat was not acknowledged; reconnecting", self.label)
                self._ending = ConnectionError(
                    "the Gateway did not acknowledge a heartbeat (zombie connection)"
                )
                await ws.aclose(RESUMING_CLOSE, "heartbeat not acknowledged")
                raise self._ending
            self._acked = False
            await self._beat(ws)
            await trio.sleep(interval)

    async def _beat(self, ws: trio_websocket.WebSocketConnection) -> None:
        await ws.send_message(json.dumps({"op": HEARTBEAT, "d": self.seq}))

    async def _receive(self, ws: trio_websocket.WebSocketConnection) -> dict[str, Any]:
        raw = await ws.get_message()
        try:
            payload = json.loads(raw)
        except ValueError:
            raise ConnectionError("the Gateway sent a payload that is not JSON") from None
        if not isinstance(payload, dict):
            raise ConnectionError("the Gateway sent a payload that is not an object")
        return payload

    def _identify(self) -> dict[str, Any]:
        properties = {"os": sys.platform, "browser": "moltbot", "device": "moltbot"}
        return {
            "op": IDENTIFY,
            "d": {"token": self._token, "intents": self.intents, "properties": properties},
        }

    def _resume(self) -> dict[str, Any]:
        return {"op": RESUME, "d": {"token": self._token, "session_id": self.session_id, "seq": self.seq}}

"""A small protocol-v4 client on trio-websocket, used by the CLI and the tests.

``async with connect(url, token=...) as client: await client.call("health")``. Responses are
matched to requests by id; events go to ``client.events`` (bounded; the oldest are dropped).
"""

from __future__ import annotations

import itertools
import json
import ssl
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, wrap_client_stream

from moltbot import __version__
from moltbot.gateway.protocol import OPERATOR_SCOPES, PROTOCOL_VERSION
from moltbot.interfaces.rpc import RpcError


class GatewayClosed(Exception):
    """The connection ended; ``code``/``reason`` are the close frame's."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"gateway closed the connection ({code}: {reason or 'no reason'})")


def error_from_wire(error: dict[str, Any]) -> RpcError:
    return RpcError(
        str(error.get("code", "INTERNAL")),
        str(error.get("message", "")),
        details=error.get("details"),
        retryable=bool(error.get("retryable", False)),
        retry_after_ms=error.get("retryAfterMs"),
    )


@dataclass
class ConnectOptions:
    token: str | None = None
    password: str | None = None
    role: str = "operator"
    scopes: list[str] = field(default_factory=lambda: sorted(OPERATOR_SCOPES))
    client_id: str = "cli"
    mode: str = "cli"
    extra: dict[str, Any] = field(default_factory=dict)
    """Merged into the ``connect`` params (device proofs in tests)."""


class GatewayClient:
    def __init__(self, ws: WebSocketConnection, hello: dict[str, Any], challenge: dict[str, Any]) -> None:
        self.ws = ws
        self.hello = hello
        self.challenge = challenge
        self.events: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.event_arrived = trio.Event()
        self.late_responses: list[dict[str, Any]] = []
        """``res`` frames for requests already answered once (two-stage methods)."""
        self._ids = itertools.count(1)
        self._pending: dict[str, trio.MemorySendChannel[dict[str, Any]]] = {}
        self.closed: GatewayClosed | None = None

    async def _read(self) -> None:
        try:
            while True:
                frame = json.loads(await self.ws.get_message())
                if frame.get("type") == "res":
                    channel = self._pending.pop(str(frame.get("id")), None)
                    if channel is not None:
                        channel.send_nowait(frame)
                    else:  # a second answer on an id, like the final result of `agent`
                        self.late_responses.append(frame)
                        self.event_arrived.set()
                        self.event_arrived = trio.Event()
                elif frame.get("type") == "event":
                    self.events.append(frame)
                    self.event_arrived.set()
                    self.event_arrived = trio.Event()
        except ConnectionClosed as exc:
            self.closed = GatewayClosed(exc.reason.code, exc.reason.reason)
        finally:
            for channel in self._pending.values():
                channel.close()
            self.event_arrived.set()

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a ``req`` and return the raw ``res`` frame."""
        rid = str(next(self._ids))
        send, recv = trio.open_memory_channel[dict[str, Any]](1)
        self._pending[rid] = send
        frame: dict[str, Any] = {"type": "req", "id": rid, "method": method, "params": params or {}}
        try:
            await self.ws.send_message(json.dumps(frame))
        except ConnectionClosed as exc:
            raise GatewayClosed(exc.reason.code, exc.reason.reason) from None
        try:
            return await recv.receive()
        except trio.EndOfChannel:
            raise self.closed or GatewayClosed(None, None) from None

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The ``payload`` of a successful response; raises :class:`RpcError` otherwise."""
        frame = await self.request(method, params)
        if not frame.get("ok"):
            raise error_from_wire(frame.get("error") or {})
        return frame.get("payload")

    async def wait_late_response(self, rid: str) -> dict[str, Any]:
        """The second ``res`` frame for request ``rid`` (buffered or future)."""
        while True:
            for frame in list(self.late_responses):
                if frame.get("id") == rid:
                    self.late_responses.remove(frame)
                    return frame
            if self.closed is not None:
                raise self.closed
            await self.event_arrived.wait()

    async def wait_event(self, name: str) -> dict[str, Any]:
        """The first buffered or future event called ``name`` (consumed from ``events``)."""
        while True:
            for frame in list(self.events):
                if frame.get("event") == name:
                    self.events.remove(frame)
                    return frame
            if self.closed is not None:
                raise self.closed
            await self.event_arrived.wait()


def connect_frame(nonce: str | None, opts: ConnectOptions) -> dict[str, Any]:
    auth = {k: v for k, v in (("token", opts.token), ("password", opts.password)) if v}
    params: dict[str, Any] = {
        "minProtocol": PROTOCOL_VERSION,
        "maxProtocol": PROTOCOL_VERSION,
        "client": {"id": opts.client_id, "version": __version__, "platform": "python", "mode": opts.mode},
        "role": opts.role,
        "scopes": list(opts.scopes),
        "auth": auth,
        **opts.extra,
    }
    return {"type": "req", "id": str(uuid.uuid4()), "method": "connect", "params": params}


@asynccontextmanager
async def _single_errors() -> AsyncIterator[None]:
    """Re-raise a nursery's lone exception bare, so callers can catch ``RpcError`` directly."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


@asynccontextmanager
async def open_ws(
    url: str,
    *,
    headers: list[tuple[str, str]] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    message_queue_size: int = 64,
    timeout: float = 10.0,
) -> AsyncIterator[WebSocketConnection]:
    """A WebSocket whose TCP stream is always closed on exit (trio-websocket's own helper
    leaves it to the garbage collector when the server closes first). Connecting, the TLS
    handshake and the upgrade each fail with ``trio.TooSlowError`` after ``timeout`` seconds:
    a peer that accepts but never answers must not hang the caller."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    host = parts.hostname or "127.0.0.1"
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with trio.fail_after(timeout):
        stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
    try:
        if secure:
            tls = trio.SSLStream(stream, ssl_context or ssl.create_default_context(), server_hostname=host)
            stream = tls
            with trio.fail_after(timeout):
                await tls.do_handshake()
        async with _single_errors(), trio.open_nursery() as nursery:
            with trio.fail_after(timeout):
                ws = await wrap_client_stream(
                    nursery,
                    stream,
                    host if parts.port is None else f"{host}:{port}",
                    resource,
                    extra_headers=headers,
                    message_queue_size=message_queue_size,
                )
            try:
                yield ws
            finally:
                with trio.move_on_after(2) as cleanup:
                    cleanup.shield = True
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    finally:
        await trio.aclose_forcefully(stream)


@asynccontextmanager
async def connect(
    url: str,
    opts: ConnectOptions | None = None,
    *,
    headers: list[tuple[str, str]] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> AsyncIterator[GatewayClient]:
    """Open, authenticate (challenge -> connect -> hello-ok) and yield a client."""
    opts = opts or ConnectOptions()
    async with open_ws(url, headers=headers, ssl_context=ssl_context, timeout=timeout) as ws:
        with trio.fail_after(timeout):
            challenge = json.loads(await ws.get_message())
            nonce = challenge.get("payload", {}).get("nonce")
            request = connect_frame(nonce, opts)
            await ws.send_message(json.dumps(request))
            try:
                reply = json.loads(await ws.get_message())
            except ConnectionClosed as exc:
                raise GatewayClosed(exc.reason.code, exc.reason.reason) from None
        if not reply.get("ok"):
            raise error_from_wire(reply.get("error") or {})
        client = GatewayClient(ws, reply["payload"], challenge)
        async with _single_errors(), trio.open_nursery() as nursery:
            nursery.start_soon(client._read)
            try:
                yield client
            finally:
                nursery.cancel_scope.cancel()

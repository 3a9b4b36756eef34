"""One WebSocket client, from the ``connect.challenge`` to the close frame.

Outgoing frames go through a bounded per-connection queue drained by a writer task, so a
client that stops reading is closed ("slow consumer") instead of stalling broadcasts to others.
A malformed frame closes only this connection.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger
from pydantic import ValidationError

from moltbot.gateway.auth import check_secret, verify_device
from moltbot.gateway.limits import TokenBucket
from moltbot.gateway.protocol import (
    OPERATOR_SCOPES,
    PRE_AUTH_MAX_FRAME,
    PROTOCOL_VERSION,
    ConnectParams,
    encode_error,
    encode_event,
    encode_ok,
    event_head,
    scope_allows,
)
from moltbot.gateway.sockets import abort_connection

if TYPE_CHECKING:
    from moltbot.gateway.server import Gateway

Send = Any
Receive = Any


class _Closed(Exception):
    """Ends the session: send a close frame with ``code``/``reason`` (unless the peer is gone)."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason


@dataclass
class ClientSummary:
    """What presence and ``status`` show about a connected client."""

    ip: str
    client: dict[str, Any]
    role: str
    scopes: list[str]
    connected_at: float = field(default_factory=time.time)
    device_id: str | None = None


class Connection:
    def __init__(
        self,
        gateway: Gateway,
        send: Send,
        receive: Receive,
        ip: str,
        origin: str | None,
        *,
        sockname: tuple[str, int] | None = None,
        peername: tuple[str, int] | None = None,
    ) -> None:
        self.gateway = gateway
        self.sockname = sockname
        self.peername = peername
        self._asgi_send = send
        self._receive = receive
        self.ip = ip
        self.origin = origin
        self.conn_id = str(uuid.uuid4())
        self.role = "operator"
        self.scopes: frozenset[str] = frozenset()
        self.summary: ClientSummary | None = None
        self.seq = 0
        self.queued_bytes = 0
        self._out_send, self._out_recv = trio.open_memory_channel[str](math.inf)
        self._send_lock = trio.Lock()
        self._scope = trio.CancelScope()
        self._reader_scope = trio.CancelScope()
        self._close: _Closed | None = None
        self._peer_gone = False
        self._flush = True

    # ------------------------------------------------------------ outgoing

    def _enqueue(self, text: str) -> None:
        if self._close is not None and not self._flush:
            return
        self.queued_bytes += len(text)
        if self.queued_bytes > self.gateway.limits.max_buffered_bytes:
            self.close(1008, "slow consumer", flush=False)
            return
        try:
            self._out_send.send_nowait(text)
        except trio.ClosedResourceError:
            self.queued_bytes -= len(text)

    def send_event(self, event: str, payload: Any) -> None:
        """Queue an event with this connection's next ``seq`` (sync, never blocks)."""
        self.send_head(event_head(event, payload))

    def send_head(self, head: str) -> None:
        """Queue an event encoded by :func:`event_head`, completed with this connection's next
        ``seq`` (broadcasts encode the payload once for all connections)."""
        self.seq += 1
        self._enqueue(f"{head}{self.seq}}}")

    def allows(self, scope: str | None) -> bool:
        return scope is None or (self.role == "operator" and scope_allows(self.scopes, scope))

    def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Ask the session to end; with ``flush`` the queued frames are sent first."""
        if self._close is None:
            self._close = _Closed(code, reason)
        self._reader_scope.cancel()
        if self._flush and not flush:
            # a slow consumer: its socket write may be stuck in the server for good, so stop
            # counting it now and abort the TCP connection to unblock that write
            self._flush = False
            self.gateway.detach(self)
            self._scope.cancel()
            abort_connection(self.sockname, self.peername)

    async def _send_text(self, text: str) -> bool:
        async with self._send_lock:
            try:
                await self._asgi_send({"type": "websocket.send", "text": text})
            except Exception:
                self._peer_gone = True
                self._scope.cancel()
                return False
        return True

    async def _writer(self) -> None:
        async for text in self._out_recv:
            if not await self._send_text(text):
                return
            self.queued_bytes -= len(text)

    async def _reply(self, text: str) -> None:
        """Send a response from the handler's own task when nothing is queued (saves a task
        switch per request); otherwise queue it behind the earlier frames."""
        if self.queued_bytes == 0 and self._close is None and not self._send_lock.locked():
            await self._send_text(text)
        else:
            self._enqueue(text)

    # ------------------------------------------------------------ session

    async def run(self) -> None:
        """Accepted socket -> challenge -> handshake -> request loop -> close frame."""
        nonce = str(uuid.uuid4())
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer)
                    self._enqueue(
                        encode_event("connect.challenge", {"nonce": nonce, "ts": int(time.time() * 1000)})
                    )
                    with self._reader_scope:
                        try:
                            await self._handshake(nonce)
                            await self._serve(nursery)
                        except _Closed as closed:
                            if self._close is None:
                                self._close = closed
                    if self._peer_gone:
                        nursery.cancel_scope.cancel()
                    else:
                        self._out_send.close()
                        nursery.cancel_scope.deadline = trio.current_time() + 2
        finally:
            self.gateway.detach(self)
        if self._flush and not self._peer_gone:
            close = self._close or _Closed(1000)
            with trio.CancelScope(shield=True), trio.move_on_after(1):
                try:
                    await self._asgi_send(
                        {"type": "websocket.close", "code": close.code, "reason": close.reason}
                    )
                except Exception:
                    logger.debug("close frame to {} not sent", self.ip)

    async def _next_text(self, limit: int) -> str:
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.disconnect":
            self._peer_gone = True
            raise _Closed(1000)
        text = message.get("text")
        if text is None:
            raise _Closed(1003, "binary frames are not accepted")
        if len(text) > limit:
            raise _Closed(1009, "frame too large")
        return text

    def _reject(self, rid: Any, error: dict[str, Any], code: int, reason: str) -> _Closed:
        self._enqueue(encode_error(rid if isinstance(rid, str) else None, error))
        return _Closed(code, reason)

    async def _handshake(self, nonce: str) -> None:
        gw = self.gateway
        text = ""
        with trio.move_on_after(gw.limits.connection_timeout) as deadline:
            text = await self._next_text(PRE_AUTH_MAX_FRAME)
        if deadline.cancelled_caught:
            raise _Closed(1008, "handshake timeout")
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):
            raise _Closed(1008, "invalid handshake: not JSON") from None
        if not isinstance(frame, dict) or frame.get("type") != "req":
            raise _Closed(1008, "invalid handshake: first frame must be a connect request")
        rid = frame.get("id")
        if frame.get("method") != "connect":
            reason = "invalid handshake: first request must be connect"
            raise self._reject(rid, {"code": "INVALID_REQUEST", "message": reason}, 1008, reason)
        try:
            params = ConnectParams.model_validate(frame.get("params"))
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "root"
            message = f"invalid connect params: at {where}: {exc.errors()[0]['msg']}"
            raise self._reject(
                rid, {"code": "INVALID_REQUEST", "message": message}, 1008, "invalid connect"
            ) from None
        if not params.minProtocol <= PROTOCOL_VERSION <= params.maxProtocol:
            error = {
                "code": "INVALID_REQUEST",
                "message": "protocol mismatch",
                "details": {
                    "code": "PROTOCOL_MISMATCH",
                    "clientMinProtocol": params.minProtocol,
                    "clientMaxProtocol": params.maxProtocol,
                    "expectedProtocol": PROTOCOL_VERSION,
                },
            }
            raise self._reject(rid, error, 1002, "protocol mismatch")
        self._authenticate(rid, params, nonce)
        self.role = params.role
        self.scopes = (
            frozenset(s for s in params.scopes if s in OPERATOR_SCOPES)
            if params.role == "operator"
            else frozenset()
        )
        self.summary = ClientSummary(
            ip=self.ip,
            client=params.client.model_dump(exclude_none=True),
            role=self.role,
            scopes=sorted(self.scopes),
            device_id=params.device.id if params.device else None,
        )
        gw.attach(self)
        self._enqueue(encode_ok(rid, gw.hello_payload(self)))

    def _authenticate(self, rid: Any, params: ConnectParams, nonce: str) -> None:
        gw = self.gateway
        wait = gw.limiter.retry_after(self.ip)
        if wait > 0:
            error = {
                "code": "RATE_LIMITED",
                "message": "unauthorized: too many failed authentication attempts; try again later",
                "details": {"code": "AUTH_RATE_LIMITED"},
                "retryable": True,
                "retryAfterMs": math.ceil(wait * 1000),
            }
            raise self._reject(rid, error, 1008, "auth rate limited")
        failure = check_secret(gw.auth_mode, gw.secret, params)
        if failure is None and params.device is not None:
            given = (params.auth.token if gw.auth_mode == "token" else params.auth.password) or ""
            reason = verify_device(params, nonce, given if gw.auth_mode == "token" else "")
            if reason is not None:
                gw.limiter.failure(self.ip)
                error = {
                    "code": "INVALID_REQUEST",
                    "message": f"unauthorized: {reason}",
                    "details": {"code": "DEVICE_AUTH_SIGNATURE_INVALID"},
                }
                raise self._reject(rid, error, 1008, "unauthorized")
        if failure is not None:
            if failure.counted:
                gw.limiter.failure(self.ip)
            error = {
                "code": "INVALID_REQUEST",
                "message": failure.message,
                "details": {"code": failure.detail_code},
            }
            raise self._reject(rid, error, 1008, "unauthorized")
        gw.limiter.success(self.ip)

    async def _serve(self, nursery: trio.Nursery) -> None:
        gw = self.gateway
        limits = gw.limits
        bucket = TokenBucket(limits.rate_per_second, limits.burst) if limits.rate_limited else None
        while True:
            text = await self._next_text(limits.max_payload)
            try:
                frame = json.loads(text)
            except (ValueError, RecursionError):
                raise _Closed(1008, "malformed frame: not JSON") from None
            if not isinstance(frame, dict) or frame.get("type") != "req":
                raise _Closed(1008, "malformed frame: expected a req frame")
            rid, method = frame.get("id"), frame.get("method")
            if not isinstance(rid, str) or not isinstance(method, str) or len(rid) > 256:
                raise _Closed(1008, "malformed frame: req needs string id and method")
            if method == "connect":
                message = "connect is only valid as the first request"
                self._enqueue(encode_error(rid, {"code": "INVALID_REQUEST", "message": message}))
                continue
            if bucket is not None and (wait := bucket.take()) > 0:
                gw.app.metrics.inc("gateway.errors", code="RATE_LIMITED")
                error = {
                    "code": "RATE_LIMITED",
                    "message": "too many requests on this connection",
                    "retryable": True,
                    "retryAfterMs": math.ceil(wait * 1000),
                }
                self._enqueue(encode_error(rid, error))
                continue
            nursery.start_soon(self._handle, rid, method, frame.get("params"))

    async def _handle(self, rid: str, method: str, params: Any) -> None:
        dispatcher = self.gateway.dispatcher
        client = (self.summary.device_id if self.summary else None) or self.ip
        frame, accepted = await dispatcher.call(
            rid, method, params, conn_id=self.conn_id, role=self.role, scopes=self.scopes, client=client
        )
        await self._reply(frame)
        if accepted is not None:
            await self._reply(await dispatcher.final_frame(rid, method, accepted))

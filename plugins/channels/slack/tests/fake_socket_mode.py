"""The fake Slack's Socket Mode server (trio-websocket on loopback).

``issue_url`` hands out a one-use ``ws://.../link/?ticket=...`` URL (``apps.connections.open``);
the server sends ``hello``, then every pending event as an ``events_api`` envelope. An envelope
stays pending until the client sends ``{"envelope_id"}`` back; one not acknowledged within
:attr:`SocketModeServer.redeliver_after` seconds is sent again (``retry_attempt`` + 1), and so
is one whose connection went away. :meth:`SocketModeServer.refresh` sends ``disconnect`` (new
envelopes wait for the next connection) and closes the old socket shortly after.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket

APP_ID = "A0FAKE"


@dataclass
class Envelope:
    envelope_id: str
    payload: dict[str, Any]
    attempt: int = 0
    sent_on: Connection | None = None
    sent_at: float = 0.0


@dataclass
class Connection:
    ws: WebSocketConnection
    live: bool = True
    refreshed: bool = False


@dataclass
class SocketModeServer:
    pending: list[Envelope] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    redeliveries: int = 0
    connects: int = 0
    connections: list[Connection] = field(default_factory=list)
    redeliver_after: float = 3.0
    lose_acks: int = 0
    """Acknowledgements to lose (as on a broken network) before taking them again."""
    close_after: float = 0.5
    """Seconds an old connection stays open after ``disconnect``."""
    port: int = 0
    _tickets: set[str] = field(default_factory=set)
    _wake: trio.Event = field(default_factory=trio.Event)
    _nursery: trio.Nursery | None = None

    def issue_url(self) -> str:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"

    def enqueue(self, payload: dict[str, Any]) -> None:
        self.pending.append(Envelope(str(uuid.uuid4()), payload))
        self._poke()

    def _poke(self) -> None:
        self._wake.set()
        self._wake = trio.Event()

    def refresh(self, reason: str = "refresh_requested") -> None:
        """Ask every open connection to reconnect (``disconnect`` with ``reason``)."""
        assert self._nursery is not None
        for conn in [c for c in self.connections if c.live and not c.refreshed]:
            conn.refreshed = True
            self._nursery.start_soon(self._disconnect, conn, reason)

    async def _disconnect(self, conn: Connection, reason: str) -> None:
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        try:
            await conn.ws.send_message(json.dumps(message))
        except ConnectionClosed:
            return
        await trio.sleep(self.close_after)
        await conn.ws.aclose()

    def drop_connections(self) -> None:
        """Close every connection without ``disconnect`` (a network failure, a server restart)."""
        assert self._nursery is not None
        for conn in [c for c in self.connections if c.live]:
            self._nursery.start_soon(conn.ws.aclose)

    async def _handler(self, request: WebSocketRequest) -> None:
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        if ticket not in self._tickets:
            await request.reject(401, body=b"invalid ticket")
            return
        self._tickets.discard(ticket)
        ws = await request.accept()
        conn = Connection(ws)
        self.connections.append(conn)
        self.connects += 1
        hello = {
            "type": "hello",
            "num_connections": sum(c.live for c in self.connections),
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        try:
            await ws.send_message(json.dumps(hello))
            self._poke()
            while True:
                data = json.loads(await ws.get_message())
                envelope_id = data.get("envelope_id")
                if envelope_id and self.lose_acks:
                    self.lose_acks -= 1
                elif envelope_id:
                    self.acks.append(envelope_id)
                    self.pending = [e for e in self.pending if e.envelope_id != envelope_id]
        except ConnectionClosed:
            pass
        finally:
            conn.live = False
            self.connections.remove(conn)
            self._poke()

    async def _deliver(self) -> None:
        """Send pending envelopes to the newest usable connection; resend unacknowledged ones."""
        while True:
            now = trio.current_time()
            target = next((c for c in reversed(self.connections) if c.live and not c.refreshed), None)
            wait = 1.0
            for envelope in list(self.pending):
                if target is None:
                    break
                lost = envelope.sent_on is None or not envelope.sent_on.live
                due = envelope.sent_at + self.redeliver_after
                if not lost and now < due:
                    wait = min(wait, due - now)
                    continue
                if envelope.sent_on is not None:
                    envelope.attempt += 1
                    self.redeliveries += 1
                message = {
                    "envelope_id": envelope.envelope_id,
                    "type": "events_api",
                    "payload": envelope.payload,
                    "accepts_response_payload": False,
                    "retry_attempt": envelope.attempt,
                    "retry_reason": "timeout" if envelope.attempt else "",
                }
                envelope.sent_on, envelope.sent_at = target, now
                try:
                    await target.ws.send_message(json.dumps(message))
                except ConnectionClosed:
                    envelope.sent_on = None
                wait = min(wait, self.redeliver_after)
            with trio.move_on_after(wait):
                await self._wake.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            server = await nursery.start(serve_websocket, self._handler, "127.0.0.1", 0, None)
            self.port = server.port
            nursery.start_soon(self._deliver)
            task_status.started()

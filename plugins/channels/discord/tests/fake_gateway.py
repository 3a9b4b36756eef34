"""The Gateway half of the fake Discord: a trio-websocket server speaking Gateway v10 (JSON).

Per connection it sends HELLO (``heartbeat_interval``), acknowledges every HEARTBEAT with op 11
(unless :attr:`FakeGateway.ack` is off), accepts IDENTIFY (token checked: close 4004; intents
checked: 4013 for unknown bits, 4014 for a privileged intent the bot is not allowed) and answers
READY with a new session, or RESUME (an unknown session: op 9 ``d: false``; a ``seq`` past the
session's: close 4007) and replays the session's events after ``seq`` before RESUMED. A payload
before IDENTIFY/RESUME closes with 4003, a second IDENTIFY with 4005. A client that closes with
1000 or 1001 ends its session, as Discord does; any other ending keeps it resumable, and events
dispatched meanwhile wait in the session for the resume.

Tests dispatch with :meth:`FakeGateway.dispatch` (``MESSAGE_CREATE`` reaches a session only with
the matching intent, and guild message content only with MESSAGE_CONTENT or a mention of the
bot), and script trouble with :meth:`drop`, :meth:`close`, :meth:`reconnect` and
:meth:`invalidate`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trio
import trio_websocket

GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 12, 1 << 15
ALL_INTENTS = (1 << 26) - 1
PRIVILEGED = (1 << 1) | (1 << 8) | MESSAGE_CONTENT


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    """Every dispatch with its ``s``, for replays."""
    alive: bool = True


@dataclass
class Connection:
    """One WebSocket connection as the fake saw it."""

    path: str
    received: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[tuple[float, int | None]] = field(default_factory=list)
    """(trio time, ``d``) of each HEARTBEAT."""
    opened_at: float = 0.0
    session: Session | None = None
    sent_upto: int = 0
    ws: trio_websocket.WebSocketConnection | None = None
    closed_with: int | None = None
    """The close code the client sent, if it closed."""
    cancel: trio.CancelScope = field(default_factory=trio.CancelScope)


@dataclass
class FakeGateway:
    token: str
    bot: dict[str, Any]
    heartbeat_interval: int = 41250
    """Milliseconds, sent in HELLO."""
    ack: bool = True
    privileged_allowed: int = MESSAGE_CONTENT
    """Privileged intents enabled for the bot in the (fake) Developer Portal."""
    url: str = ""
    connections: list[Connection] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _poke: trio.Event = field(default_factory=trio.Event)

    @property
    def resume_url(self) -> str:
        return f"{self.url}/resume"

    @property
    def live(self) -> list[Connection]:
        return [c for c in self.connections if c.ws is not None and c.session is not None]

    # ------------------------------------------------------------ scripting

    def dispatch(self, kind: str, data: dict[str, Any], *, mentions_bot: bool = False) -> int:
        """Send an event to every session that may see it; how many sessions got it."""
        count = 0
        for session in self.sessions.values():
            payload = self._visible(session, kind, data, mentions_bot)
            if payload is not None:
                session.seq += 1
                session.events.append({"op": 0, "t": kind, "s": session.seq, "d": payload})
                count += 1
        self._wake()
        return count

    def redispatch(self, event: dict[str, Any]) -> None:
        """Send an already delivered event once more, with a new ``s`` (Discord may)."""
        for session in self.sessions.values():
            session.seq += 1
            session.events.append({**event, "s": session.seq})
        self._wake()

    def _visible(
        self, session: Session, kind: str, data: dict[str, Any], mentions_bot: bool
    ) -> dict[str, Any] | None:
        if kind != "MESSAGE_CREATE":
            return data
        needed = GUILD_MESSAGES if data.get("guild_id") else DIRECT_MESSAGES
        if not session.intents & needed:
            return None
        own = data["author"]["id"] == self.bot["id"]
        if data.get("guild_id") and not (session.intents & MESSAGE_CONTENT or mentions_bot or own):
            return {**data, "content": "", "embeds": [], "attachments": [], "components": []}
        return data

    def _wake(self) -> None:
        self._poke.set()
        self._poke = trio.Event()

    async def drop(self) -> None:
        """Break the live connections without a close frame (a network failure)."""
        for conn in self.live:
            assert conn.ws is not None
            await conn.ws._stream.aclose()  # the TCP connection goes away under the WebSocket
            conn.cancel.cancel()

    async def close(self, code: int, reason: str = "") -> None:
        """Close the live connections with ``code`` (a Gateway close event code)."""
        for conn in self.live:
            assert conn.ws is not None
            await conn.ws.aclose(code, reason)

    async def reconnect(self) -> None:
        """Send RECONNECT (op 7) on the live connections."""
        for conn in self.live:
            assert conn.ws is not None
            await conn.ws.send_message(json.dumps({"op": 7, "d": None}))

    async def invalidate(self, resumable: bool) -> None:
        """Send INVALID_SESSION (op 9); a non-resumable one ends the session."""
        for conn in self.live:
            assert conn.ws is not None and conn.session is not None
            if not resumable:
                conn.session.alive = False
                self.sessions.pop(conn.session.id, None)
            await conn.ws.send_message(json.dumps({"op": 9, "d": resumable}))

    # ------------------------------------------------------------ server

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            server = await nursery.start(trio_websocket.serve_websocket, self._handle, "127.0.0.1", 0, None)
            self.url = f"ws://127.0.0.1:{server.port}"
            task_status.started(self.url)

    async def _handle(self, request: trio_websocket.WebSocketRequest) -> None:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        ws = await request.accept()
        conn = Connection(path=parts.path, opened_at=trio.current_time(), ws=ws)
        self.connections.append(conn)
        try:
            with conn.cancel:
                if query.get("v") != ["10"]:
                    await ws.aclose(4012, "Invalid API version")
                    return
                if query.get("encoding") != ["json"]:
                    await ws.aclose(4002, "Decode error")
                    return
                await ws.send_message(
                    json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval}})
                )
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer, conn)
                    await self._reader(conn)
                    nursery.cancel_scope.cancel()
        except* trio_websocket.ConnectionClosed as group:
            closed = group.exceptions[0]
            assert isinstance(closed, trio_websocket.ConnectionClosed)
            conn.closed_with = closed.reason.code
        finally:
            if conn.closed_with in (1000, 1001) and conn.session is not None:
                self.sessions.pop(conn.session.id, None)
            conn.ws = None

    async def _reader(self, conn: Connection) -> None:
        assert conn.ws is not None
        ws = conn.ws
        while True:
            try:
                payload = json.loads(await ws.get_message())
            except ValueError:
                await ws.aclose(4002, "Decode error")
                return
            conn.received.append(payload)
            op, data = payload.get("op"), payload.get("d")
            if op == 1:
                conn.heartbeats.append((trio.current_time(), data))
                if self.ack:
                    await ws.send_message(json.dumps({"op": 11}))
            elif op == 2:
                if conn.session is not None:
                    await ws.aclose(4005, "Already authenticated")
                    return
                if not await self._identify(conn, data or {}):
                    return
            elif op == 6:
                if not await self._resume(conn, data or {}):
                    return
            elif conn.session is None:
                await ws.aclose(4003, "Not authenticated")
                return
            else:
                await ws.aclose(4001, "Unknown opcode")
                return

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> bool:
        assert conn.ws is not None
        if data.get("token") != self.token:
            await conn.ws.aclose(4004, "Authentication failed")
            return False
        intents = data.get("intents")
        if not isinstance(intents, int) or intents & ~ALL_INTENTS:
            await conn.ws.aclose(4013, "Invalid intent(s)")
            return False
        if intents & PRIVILEGED & ~self.privileged_allowed:
            await conn.ws.aclose(4014, "Disallowed intent(s)")
            return False
        session = Session(id=f"fake-session-{next(self._ids)}", intents=intents)
        self.sessions[session.id] = session
        conn.session = session
        conn.sent_upto = session.seq
        session.seq += 1
        ready = {
            "v": 10,
            "user": self.bot,
            "guilds": [],
            "session_id": session.id,
            "resume_gateway_url": self.resume_url,
            "application": {"id": self.bot["id"], "flags": 0},
        }
        session.events.append({"op": 0, "t": "READY", "s": session.seq, "d": ready})
        self._wake()
        return True

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> bool:
        assert conn.ws is not None
        if data.get("token") != self.token:
            await conn.ws.aclose(4004, "Authentication failed")
            return False
        session = self.sessions.get(str(data.get("session_id")))
        if session is None:
            await conn.ws.send_message(json.dumps({"op": 9, "d": False}))
            return True
        seq = data.get("seq")
        if not isinstance(seq, int) or seq > session.seq:
            await conn.ws.aclose(4007, "Invalid seq")
            return False
        for other in self.live:
            if other.session is session and other is not conn:
                other.cancel.cancel()
        conn.session = session
        conn.sent_upto = seq
        session.seq += 1
        session.events.append({"op": 0, "t": "RESUMED", "s": session.seq, "d": None})
        self._wake()
        return True

    async def _writer(self, conn: Connection) -> None:
        """Sends the session's events past ``sent_upto``: the replay after a resume, then live."""
        assert conn.ws is not None
        while True:
            poke = self._poke
            session = conn.session
            if session is not None:
                pending = [e for e in session.events if e["s"] > conn.sent_upto]
                for event in pending:
                    await conn.ws.send_message(json.dumps(event))
                    conn.sent_upto = event["s"]
            await poke.wait()

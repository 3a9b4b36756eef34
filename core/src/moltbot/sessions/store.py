"""The session store of one agent: ``<state>/agents/<agentId>/sessions/``.

Keys map to their current session through the index; transcripts are the durable truth. Loaded
sessions live in an LRU bounded by ``performance.agents.sessionCacheSize``; evicting one loses
nothing because every append is already on disk. Index writes are debounced (``flush``, run by
the sessions service about once a second), which is safe because the index repairs itself from
the transcripts on open.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import trio
from loguru import logger

from moltbot.config.model import SessionConfig, Settings
from moltbot.config.store import ensure_private_dir
from moltbot.sessions import entries as E
from moltbot.sessions.index import (
    INDEX_FILE,
    discover,
    load_index,
    read_headers,
    transcript_path,
    write_index,
)
from moltbot.sessions.keys import parse_key
from moltbot.sessions.locking import pid_lock
from moltbot.sessions.meta import SessionMeta
from moltbot.sessions.reset import expiry_reason, policy_for
from moltbot.sessions.session import Clock, Session, local_now

DELETED_SUFFIX = ".deleted"


def sessions_dir(state_dir: Path, agent_id: str) -> Path:
    return state_dir / "agents" / agent_id / "sessions"


class SessionStore:
    """Creates, loads, resets and lists the sessions of one agent."""

    def __init__(
        self,
        directory: Path,
        *,
        agent_id: str = "main",
        config: SessionConfig | None = None,
        cache_size: int = 100,
        clock: Clock = local_now,
    ) -> None:
        self.directory = directory
        self.agent_id = agent_id
        self.config = config or SessionConfig()
        self.cache_size = cache_size
        self.clock = clock
        self._rows: dict[str, SessionMeta] = {}
        self._cache: OrderedDict[str, Session] = OrderedDict()
        self._structure = trio.Lock()
        self._dirty = False
        self._deleted: set[str] = set()

    @classmethod
    def for_agent(cls, state_dir: Path, settings: Settings, agent_id: str = "main") -> SessionStore:
        return cls(
            sessions_dir(state_dir, agent_id),
            agent_id=agent_id,
            config=settings.session,
            cache_size=settings.performance.agents.session_cache_size,
        )

    @property
    def index_path(self) -> Path:
        return self.directory / INDEX_FILE

    async def open(self) -> None:
        """Load the index, repairing it (and torn transcript tails) from the transcripts."""
        self._rows = await trio.to_thread.run_sync(self._open_sync)

    def _open_sync(self) -> dict[str, SessionMeta]:
        ensure_private_dir(self.directory)
        with pid_lock(self.index_path.with_name(INDEX_FILE + ".lock")):
            rows = load_index(self.index_path, repair=True)
            current = discover(self.directory, rows, lambda p, _h: Session.load(p, clock=self.clock).meta)
            if current != rows or not self.index_path.exists():
                write_index(self.index_path, {k: m.to_json() for k, m in current.items()})
        return current

    def list(self) -> list[SessionMeta]:
        """Every key's current session, most recently updated first."""
        return sorted(self._rows.values(), key=lambda m: m.updated_at, reverse=True)

    def meta(self, key: str) -> SessionMeta | None:
        return self._rows.get(key)

    @property
    def cached(self) -> int:
        """Sessions currently held in memory (at most ``cache_size``)."""
        return len(self._cache)

    async def get(self, key: str) -> Session | None:
        """The current session of ``key`` as it is (no reset applied), or ``None``."""
        session = self._cache.get(key)
        if session is not None:
            self._cache.move_to_end(key)
            return session
        row = self._rows.get(key)
        if row is None:
            return None
        path = transcript_path(self.directory, row.session_id)
        try:
            session = await trio.to_thread.run_sync(lambda: Session.load(path, clock=self.clock))
        except (FileNotFoundError, ValueError) as exc:  # removed or replaced behind our back
            logger.warning("session {} of {} is unreadable ({}); forgetting it", row.session_id, key, exc)
            if self._rows.get(key) is row:
                del self._rows[key]
                self._dirty = True
            return None
        return self._remember(session)

    async def session(self, key: str, *, origin: dict[str, str] | None = None) -> Session:
        """The session a new message for ``key`` goes to: created when missing, replaced by a
        fresh one when the reset policy says the current one expired."""
        parse_key(key)
        async with self._structure:
            row = self._rows.get(key)
            if row is None:
                return await self._create(key, origin, previous=None)
            reason = expiry_reason(policy_for(self.config, key), row.last_interaction_at, self.clock())
            if reason is not None:
                return await self._reset_locked(key, reason)
        session = await self.get(key)
        if session is None:  # its transcript vanished since the index was read
            async with self._structure:
                return await self._create(key, origin, previous=None)
        return session

    async def reset(self, key: str, reason: str = "manual") -> Session:
        """Start a new session under ``key`` (``/new``, ``/reset``); the old transcript stays."""
        parse_key(key)
        async with self._structure:
            return await self._reset_locked(key, reason)

    async def _reset_locked(self, key: str, reason: str) -> Session:
        old = self._rows.get(key)
        origin = None
        if old is not None:
            origin = {k: v for k, v in (("channel", old.channel), ("chatType", old.chat_type)) if v}
        old_session = await self.get(key) if old is not None else None
        new = await self._create(key, origin, previous=old.session_id if old else None)
        if old_session is not None:
            await old_session.append(E.reset_marker(reason, new.id))
        return new

    async def delete(self, key: str) -> bool:
        """Forget ``key``: its transcripts (current and earlier) are renamed to
        ``<id>.jsonl.deleted``, out of every listing but still on disk. False if unknown."""
        async with self._structure:
            if self._rows.pop(key, None) is None:
                return False
            self._cache.pop(key, None)
            self._deleted.add(key)
            await trio.to_thread.run_sync(self._delete_files, key)
            self._dirty = True
            await self.flush()
            return True

    def _delete_files(self, key: str) -> None:
        for session_id, header in read_headers(self.directory).items():
            if header["key"] == key:
                path = transcript_path(self.directory, session_id)
                os.replace(path, path.with_name(path.name + DELETED_SUFFIX))

    async def _create(self, key: str, origin: dict[str, str] | None, *, previous: str | None) -> Session:
        session_id = E.new_session_id()
        header = E.header(
            session_id=session_id,
            key=key,
            created_at=self.clock(),
            agentId=self.agent_id,
            origin=origin or None,
            previousSessionId=previous,
        )
        path = transcript_path(self.directory, session_id)
        session = await trio.to_thread.run_sync(lambda: Session.create(path, header, clock=self.clock))
        self._deleted.discard(key)
        self._rows[key] = session.meta
        self._remember(session)
        self._dirty = True
        await self.flush()
        return session

    def _remember(self, session: Session) -> Session:
        session.on_change = self._changed
        self._cache[session.key] = session
        self._cache.move_to_end(session.key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return session

    def _changed(self, session: Session) -> None:
        row = self._rows.get(session.key)
        if row is not None and row.session_id == session.id:
            self._rows[session.key] = session.meta
            self._dirty = True

    async def flush(self) -> None:
        """Write the index if anything changed since the last write."""
        if not self._dirty:
            return
        self._dirty = False
        snapshot = {key: meta.to_json() for key, meta in self._rows.items()}
        await trio.to_thread.run_sync(self._write_rows, snapshot)

    def _write_rows(self, rows: dict[str, dict[str, Any]]) -> None:
        """Write ``rows``, keeping keys that another process added meanwhile (under the lock)."""
        with pid_lock(self.index_path.with_name(INDEX_FILE + ".lock")):
            theirs = {
                k: m.to_json() for k, m in load_index(self.index_path).items() if k not in self._deleted
            }
            write_index(self.index_path, {**theirs, **rows})

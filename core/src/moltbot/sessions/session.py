"""One conversation's transcript, loaded in memory, with durable appends and the context view.

Appends take the per-session ``trio.Lock`` and the transcript's ``flock`` only for the write
itself (never across a model call). Each append first picks up lines another process or an
older object for the same file added, so every writer chains ``parentId`` correctly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import trio

from moltbot.errors import BusyError
from moltbot.sessions import transcript
from moltbot.sessions.entries import CONTEXT_TYPES, Entry, estimate_tokens, new_entry_id
from moltbot.sessions.locking import LOCK_TIMEOUT, locked_append_fd
from moltbot.sessions.meta import SessionMeta

Clock = Callable[[], datetime]


def local_now() -> datetime:
    """The wall clock in the gateway's local time zone (daily resets happen in local time)."""
    return datetime.now().astimezone()


@dataclass(frozen=True)
class ContextView:
    """What the model sees: the latest compaction summary (if any) and the entries kept after it."""

    summary: str | None
    entries: list[Entry]

    @property
    def tokens(self) -> int:
        """Estimated tokens of the view (4 characters per token)."""
        return (len(self.summary) // 4 if self.summary else 0) + sum(map(estimate_tokens, self.entries))


class Session:
    """A transcript file plus its decoded entries and metadata."""

    def __init__(self, path: Path, header: Entry, *, clock: Clock = local_now) -> None:
        self.path = path
        self.header = header
        self.entries: list[Entry] = []
        self.meta = SessionMeta.from_header(header)
        self.size = 0
        self._compaction: int | None = None
        """Index in ``entries`` of the latest compaction entry."""
        self.torn_bytes = 0
        """Bytes of torn lines set aside while this object read the file."""
        self._clock = clock
        self._lock = trio.Lock()
        self.unsynced = False
        """An append with ``sync=False`` has not been covered by an fsync yet."""
        self.on_change: Callable[[Session], None] | None = None

    @property
    def key(self) -> str:
        return self.meta.key

    @property
    def id(self) -> str:
        return self.meta.session_id

    @classmethod
    def load(cls, path: Path, *, clock: Clock = local_now) -> Session:
        """Read ``path`` under its write lock, setting aside a torn last line (blocking)."""
        header = transcript.read_header(path)
        if header is None:
            raise ValueError(f"{path.name} has no session header")
        session = cls(path, header, clock=clock)
        with locked_append_fd(path):
            session._sync(os.path.getsize(path))
        return session

    @classmethod
    def create(cls, path: Path, header: Entry, *, clock: Clock = local_now) -> Session:
        """Write a new transcript holding only ``header`` (blocking)."""
        session = cls(path, header, clock=clock)
        session.size = session.meta.bytes = transcript.create(path, header)
        return session

    def _sync(self, size: int) -> None:
        """Fold lines beyond ``self.size``; a torn tail is set aside. Call under the flock."""
        if size == self.size:
            return
        if size < self.size:  # shrunk underneath us: start over from the header
            self.entries.clear()
            self.meta = SessionMeta.from_header(self.header)
            self.size = 0
            self._compaction = None
        chunk = transcript.read_from(self.path, self.size)
        if self.size == 0:
            chunk.entries = [e for e in chunk.entries if e.get("type") != "session"]
        if chunk.torn:
            transcript.set_aside(self.path, chunk)
            self.torn_bytes += len(chunk.torn)
        for entry in chunk.entries:
            self._add(entry)
        self.size = self.meta.bytes = chunk.end

    def _add(self, entry: Entry) -> None:
        if entry.get("type") == "compaction":
            self._compaction = len(self.entries)
        self.entries.append(entry)
        self.meta.apply(entry)

    def _write(
        self, entries: list[Entry], sync: bool = True, lock_timeout: float = LOCK_TIMEOUT
    ) -> list[Entry]:
        with locked_append_fd(self.path, timeout=lock_timeout) as fd:
            self._sync(os.fstat(fd).st_size)
            parent = self.entries[-1]["id"] if self.entries else None
            stamp = self._clock().isoformat()
            stamped = []
            for entry in entries:
                stamped.append({"id": new_entry_id(), "parentId": parent, "timestamp": stamp, **entry})
                parent = stamped[-1]["id"]
            self.size = transcript.write_all(fd, b"".join(map(transcript.encode, stamped)), sync=sync)
        self.unsynced = not sync
        for entry in stamped:
            self._add(entry)
        self.meta.bytes = self.size
        return stamped

    async def append(self, *entries: Entry, sync: bool = True) -> list[Entry]:
        """Durably append ``entries`` (built with :mod:`moltbot.sessions.entries`) as one write.

        Fills in ``id``, ``parentId`` and ``timestamp``; returns the stored entries once they
        are fsynced. Several entries in one call (an assistant message and its usage) go out in
        one ``write()``, so one fsync covers them; a crash can still tear the last of them.
        With ``sync=False`` the entries are written but not fsynced: they survive a crash of
        the process, and the next synced append of this transcript makes them survive a power
        loss too (an fsync flushes every earlier write of the file). Such a write is done on
        the event loop when the transcript's lock is free (no thread hop), else in a thread.
        """
        async with self._lock:
            if sync:
                stored = await trio.to_thread.run_sync(self._write, list(entries))
            else:
                try:  # a page-cache write of a line or two costs less than a thread hop
                    stored = self._write(list(entries), False, 0)
                except BusyError:  # another process is writing: wait for it in a thread
                    stored = await trio.to_thread.run_sync(self._write, list(entries), False)
        if self.on_change is not None:
            self.on_change(self)
        return stored

    async def sync(self) -> None:
        """Fsync the transcript if an unsynced append is not covered yet (end of a run)."""
        async with self._lock:
            if self.unsynced:
                await trio.to_thread.run_sync(transcript.fsync_file, self.path)
                self.unsynced = False

    def context(self) -> ContextView:
        """The model's view: after the latest compaction, its summary plus the entries from its
        ``firstKeptEntryId`` on; without one, every message and tool result."""
        start, summary = 0, None
        if self._compaction is not None:
            compaction = self.entries[self._compaction]
            summary, start = compaction.get("summary") or "", self._compaction + 1
            kept = compaction.get("firstKeptEntryId")
            for earlier in range(self._compaction - 1, -1, -1):  # the kept part is recent
                if self.entries[earlier].get("id") == kept:
                    start = earlier
                    break
        return ContextView(summary, [e for e in self.entries[start:] if e.get("type") in CONTEXT_TYPES])

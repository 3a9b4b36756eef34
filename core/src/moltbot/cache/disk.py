"""The built-in ``disk`` backend: one SQLite file under the state dir.

WAL mode and a busy timeout make it safe for several processes (a gateway and ``moltbot cache``)
at once; every statement commits on its own, and ``synchronous=NORMAL`` keeps every committed
write across a process crash. Each call runs in a worker thread so the trio loop never blocks on
disk. A corrupt file is moved aside as ``cache.sqlite3.corrupt-<timestamp>`` and an empty cache
takes its place: losing a cache is never worth stopping the gateway for.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import trio
from loguru import logger
from pydantic import Field, field_validator

from moltbot.config.base import StrictModel
from moltbot.interfaces.cache import CacheBackend
from moltbot.specs import BuildContext

T = TypeVar("T")
FILE_NAME = "cache.sqlite3"
SUFFIXES = (".sqlite3", ".sqlite", ".db")
PURGE_EVERY = 60.0
"""Seconds (on the backend's clock) between deletions of expired rows, done during a ``set``."""
_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_expires ON entries (expires) WHERE expires IS NOT NULL;
"""


class DiskCacheConfig(StrictModel):
    path: str | None = None
    """The SQLite file; default ``<state dir>/cache/cache.sqlite3``."""

    @field_validator("path")
    @classmethod
    def _dedicated_file(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith(SUFFIXES):
            raise ValueError(
                f"{value!r} must end with {', '.join(SUFFIXES)}: a corrupt cache file is moved aside,"
                " so it must be a file only the cache uses"
            )
        return value

    busy_timeout: int = Field(5000, ge=0)
    """Milliseconds to wait for another process's write lock before failing the call."""


class DiskBackend(CacheBackend):
    """Entries ``(key, value, expires)`` in a WAL-mode SQLite table; ``clock`` is wall time
    unless a test injects one."""

    def __init__(
        self, config: DiskCacheConfig, ctx: BuildContext, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(config.path).expanduser() if config.path else ctx.state_dir / FILE_NAME
        self.busy_timeout = config.busy_timeout
        self.clock = clock
        self.quarantined: list[Path] = []
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._purged_at = clock()
        self._lock = trio.Lock()

    # ------------------------------------------------------------ CacheBackend

    async def get(self, key: str) -> bytes | None:
        row = await self._run(
            lambda db: db.execute("SELECT value, expires FROM entries WHERE key = ?", (key,)).fetchone()
        )
        if row is None or (row[1] is not None and row[1] <= self.clock()):
            return None
        return bytes(row[0])

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        now = self.clock()
        expires = None if ttl is None else now + ttl
        purge = now - self._purged_at >= PURGE_EVERY

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO entries (key, value, expires) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                (key, value, expires),
            )
            if purge:
                db.execute("DELETE FROM entries WHERE expires <= ?", (now,))

        await self._run(write)
        if purge:
            self._purged_at = now

    async def delete(self, key: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM entries WHERE key = ?", (key,)))

    async def clear(self, prefix: str = "") -> int:
        now = self.clock()

        def clear(db: sqlite3.Connection) -> int:
            db.execute("DELETE FROM entries WHERE expires <= ?", (now,))
            return db.execute(
                "DELETE FROM entries WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
            ).rowcount

        return await self._run(clear)

    async def stats(self) -> dict[str, Any]:
        """Live entries and their bytes, per namespace, and the file's size on disk."""
        if self._conn is None and not self.path.exists():
            return {"path": str(self.path), "entries": 0, "bytes": 0, "fileBytes": 0, "namespaces": {}}
        now = self.clock()
        rows = await self._run(
            lambda db: db.execute(
                "SELECT substr(key, 1, instr(key, ':') - 1), count(*), sum(length(key) + length(value))"
                " FROM entries WHERE expires IS NULL OR expires > ? GROUP BY 1",
                (now,),
            ).fetchall()
        )
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return {
            "path": str(self.path),
            "entries": sum(r[1] for r in rows),
            "bytes": sum(r[2] for r in rows),
            "fileBytes": sum(f.stat().st_size for f in files if f.exists()),
            "namespaces": {r[0]: {"entries": r[1], "bytes": r[2]} for r in rows},
        }

    async def aclose(self) -> None:
        async with self._lock:
            await trio.to_thread.run_sync(self._close)

    # ------------------------------------------------------------ SQLite plumbing

    async def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        async with self._lock:
            return await trio.to_thread.run_sync(self._call, operation)

    def _call(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation``; on corruption quarantine the file and run it once on a fresh one."""
        try:
            return operation(self._connection())
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._quarantine(exc)
            return operation(self._connection())

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            if self._same_file():
                return self._conn
            logger.warning(
                "cache file {} was replaced (quarantined by another process); reopening", self.path
            )
            self._close()
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            self._quarantine(exc)
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=self.busy_timeout / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        self._inode = os.stat(self.path).st_ino
        return db

    def _same_file(self) -> bool:
        """Whether the path still names the file this handle opened (one ``stat`` per call)."""
        try:
            return os.stat(self.path).st_ino == self._inode
        except FileNotFoundError:
            return False

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _quarantine(self, exc: sqlite3.DatabaseError) -> None:
        """Move the corrupt file (and its WAL) aside, unless another process already did."""
        self._close()
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return
        if self._inode is not None and inode != self._inode:
            self._inode = None
            return  # already replaced by another process: just reopen
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        self._inode = None
        self.quarantined.append(target)
        logger.error(
            "cache file {} is corrupt ({}); moved it to {} and started an empty cache", self.path, exc, target
        )


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPT_CODES
    return type(exc) is sqlite3.DatabaseError  # our own quick_check failure

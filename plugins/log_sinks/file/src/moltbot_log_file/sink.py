"""The file sink: one JSON record per line, rotated at ``maxSize``, rotated files older than
``days`` deleted, optionally gzipped.

Lines are appended synchronously in ``emit`` (a buffered write and flush, so a crash loses at
most the line being written); rotation is a rename. The slow parts, gzip and pruning, run in
``run`` on a worker thread. Time comes from an injectable clock so tests control retention.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import trio
from pydantic import Field, field_validator

from moltbot import BuildContext, LogRecord, LogSink, StrictModel
from moltbot.config.model import parse_size
from moltbot.logs.format import record_json

_STAMP = "%Y%m%dT%H%M%S%fZ"
PRUNE_EVERY = 3600.0


class FileSinkConfig(StrictModel):
    dir: str | None = None
    """Directory for the files; default ``<state dir>/logs``."""
    filename: str = Field("moltbot.jsonl", pattern=r"^[^/\\]+$")
    max_size: str | None = None
    """Rotate when the file would grow past this; default ``logging.retention.maxSize``."""
    days: int | None = Field(None, ge=1)
    """Delete rotated files older than this; default ``logging.retention.days``."""
    compress: bool = False
    """Gzip rotated files (in the background)."""

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)
        return value


class FileSink(LogSink):
    def __init__(
        self, config: FileSinkConfig, ctx: BuildContext, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        retention = ctx.settings.logging.retention
        self.dir = Path(config.dir).expanduser() if config.dir else ctx.state_dir
        self.path = self.dir / config.filename
        self.max_bytes = parse_size(config.max_size or retention.max_size)
        self.keep = timedelta(days=config.days or retention.days)
        self.compress = config.compress
        self.clock = clock or (lambda: datetime.now(UTC))
        self._file: IO[bytes] | None = None
        self._size = 0
        self._wake: trio.Event | None = None
        """Set on rotation so ``run`` compresses and prunes promptly."""
        self.stats = {"emitted": 0, "failed": 0, "rotations": 0, "deleted": 0, "compressed": 0}

    # ------------------------------------------------------------ writing

    def emit(self, record: LogRecord) -> None:
        data = (record_json(record) + "\n").encode()
        try:
            handle = self._open()
            if self._size and self._size + len(data) > self.max_bytes:
                self.rotate()
                handle = self._open()
            handle.write(data)
            handle.flush()
        except OSError:
            self.stats["failed"] += 1  # a full disk must not take the gateway down
            return
        self._size += len(data)
        self.stats["emitted"] += 1

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "ab")
            self._size = self._file.tell()
        return self._file

    def rotate(self) -> Path:
        """Close the current file and rename it ``<stem>.<UTC stamp><suffix>``."""
        self._close_file()
        target = self.dir / f"{self.path.stem}.{self.clock().strftime(_STAMP)}{self.path.suffix}"
        os.replace(self.path, target)
        self.stats["rotations"] += 1
        self.prune()
        if self._wake is not None:
            self._wake.set()
        return target

    # ------------------------------------------------------------ housekeeping

    def rotated_files(self) -> list[tuple[datetime, Path]]:
        pattern = re.compile(
            rf"^{re.escape(self.path.stem)}\.(\d{{8}}T\d{{12}}Z){re.escape(self.path.suffix)}(\.gz)?$"
        )
        found = []
        for entry in self.dir.iterdir() if self.dir.is_dir() else ():
            match = pattern.match(entry.name)
            if match:
                found.append((datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC), entry))
        return sorted(found)

    def prune(self) -> None:
        """Delete rotated files whose rotation time is older than the retention."""
        cutoff = self.clock() - self.keep
        for stamp, path in self.rotated_files():
            if stamp < cutoff:
                path.unlink(missing_ok=True)
                self.stats["deleted"] += 1

    def compress_rotated(self) -> None:
        """Gzip rotated files that are not compressed yet (write .gz, then remove the original)."""
        for _, path in self.rotated_files():
            if path.suffix == ".gz":
                continue
            target = path.with_name(path.name + ".gz")
            partial = target.with_name(target.name + ".part")
            with path.open("rb") as src, gzip.open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(partial, target)
            path.unlink()
            self.stats["compressed"] += 1

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._wake = trio.Event()
        task_status.started()
        while True:
            with trio.move_on_after(PRUNE_EVERY):
                await self._wake.wait()
            self._wake = trio.Event()
            await trio.to_thread.run_sync(self._housekeep)

    def _housekeep(self) -> None:
        self.prune()
        if self.compress:
            self.compress_rotated()

    # ------------------------------------------------------------ shutdown

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._size = 0

    def close(self) -> None:
        self._close_file()

    def statistics(self) -> dict[str, int]:
        return dict(self.stats)

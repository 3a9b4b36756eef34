"""JSONL transcript files: atomic creation, durable O(1) appends, and loading that survives a
crash mid-append (the torn last line is moved to ``<id>.jsonl.torn``, never fatal).

These are blocking functions; async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from moltbot.sessions.entries import Entry

TORN_SUFFIX = ".torn"


@dataclass
class Chunk:
    """What was read from ``offset`` on: complete entries, where they end, and what was not."""

    entries: list[Entry] = field(default_factory=list)
    end: int = 0
    """Offset just past the last complete line (the file is truncated here if torn)."""
    torn: bytes = b""
    """An incomplete last line (no newline): the remains of a write cut short by a crash."""
    corrupt: int = 0
    """Complete lines that were not a JSON object; skipped and logged."""


def encode(entry: Entry) -> bytes:
    """One transcript line: compact JSON (no raw newlines possible) plus ``\\n``."""
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create(path: Path, header: Entry) -> int:
    """Create ``path`` holding only ``header``, atomically (a crash leaves no half header).

    Returns the file size. Raises ``FileExistsError`` if the transcript already exists.
    """
    data = encode(header)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.link(tmp, path)  # fails instead of replacing an existing transcript
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return len(data)


def write_all(fd: int, data: bytes, *, sync: bool = True) -> int:
    """Append complete lines to an ``O_APPEND`` descriptor, ``fsync`` unless ``sync`` is false;
    returns the new size.

    Cost does not depend on the file's length: nothing is read or rewritten. Without the fsync
    the lines survive a crash of the process (they are in the kernel's page cache) but not of
    the machine until the next synced append, whose fsync covers them too.
    """
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    if sync:
        os.fsync(fd)
    return os.fstat(fd).st_size


def read_from(path: Path, offset: int = 0) -> Chunk:
    """Decode the lines of ``path`` from ``offset``, which must be at a line start."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    lines = data.split(b"\n")
    chunk = Chunk(torn=lines.pop())  # b"" when the data ends with a newline
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            chunk.entries.append(value)
        else:
            chunk.corrupt += 1
    chunk.end = offset + len(data) - len(chunk.torn)
    if chunk.corrupt:
        logger.warning("{}: skipped {} unreadable line(s)", path, chunk.corrupt)
    return chunk


def set_aside(path: Path, chunk: Chunk) -> None:
    """Move a torn tail into ``<path>.torn`` (appended, kept for forensics), then cut it off."""
    if not chunk.torn:
        return
    side = path.with_name(path.name + TORN_SUFFIX)
    fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, chunk.torn + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.truncate(path, chunk.end)
    fsync_file(path)
    logger.warning("{}: a torn last line ({} bytes) was moved to {}", path, len(chunk.torn), side.name)


def read_header(path: Path) -> Entry | None:
    """The header of ``path`` (its first line), or ``None`` when it has no valid one."""
    try:
        with open(path, "rb") as handle:
            line = handle.readline()
        value = json.loads(line) if line.endswith(b"\n") else None
    except (OSError, ValueError):
        return None
    if isinstance(value, dict) and value.get("type") == "session" and value.get("id") and value.get("key"):
        return value
    return None

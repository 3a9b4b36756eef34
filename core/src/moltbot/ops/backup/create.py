"""``backup create``: a consistent archive while the gateway keeps writing.

Each file is read through one open descriptor up to the size it had when opened (an atomically
replaced file is therefore either all old or all new); a ``.jsonl`` transcript is cut after its
last complete line, so a line being appended is left out rather than torn. The archive is written
to a hidden temp file in the backup dir, fsynced, then renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import socket
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from moltbot import __version__
from moltbot.ops.backup.layout import MANIFEST, PARTIAL_PREFIX, Sources, archive_name, empty_manifest

CHUNK = 1024 * 1024
Progress = Callable[[int], None]


class _HashingReader(io.RawIOBase):
    def __init__(self, handle: IO[bytes], progress: Progress | None) -> None:
        self.handle, self.progress, self.digest = handle, progress, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        if self.progress and data:
            self.progress(len(data))
        return data


def _snapshot(path: Path, spool: IO[bytes]) -> tuple[int, int]:
    """Copy ``path`` as it is now into ``spool``; returns (bytes kept, bytes read)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        remaining = os.fstat(fd).st_size
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                break  # truncated while we read: keep what was there
            spool.write(data)
            remaining -= len(data)
    read = size = spool.tell()
    if path.suffix == ".jsonl" and size:
        size = _last_line_end(spool, size)
        spool.truncate(size)
    spool.seek(0)
    return size, read


def _last_line_end(spool: IO[bytes], size: int) -> int:
    pos = size
    while pos > 0:
        start = max(0, pos - CHUNK)
        spool.seek(start)
        block = spool.read(pos - start)
        idx = block.rfind(b"\n")
        if idx >= 0:
            return start + idx + 1
        pos = start
    return 0


def _walk(root: Path, exclude: tuple[Path, ...]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if base / d not in exclude)
        for name in dirnames:
            yield base / name
        for name in sorted(filenames):
            path = base / name
            if path not in exclude and not name.startswith(PARTIAL_PREFIX):
                yield path


def _plan(sources: Sources) -> list[tuple[str, Path, Path]]:
    """``(root name, root path, path)`` for everything to archive, state first."""
    plan: list[tuple[str, Path, Path]] = []
    if sources.state.is_dir():
        plan += [("state", sources.state, p) for p in _walk(sources.state, sources.exclude)]
    if sources.config.is_file() and not sources.config.resolve().is_relative_to(sources.state.resolve()):
        plan.append(("config", sources.config.parent, sources.config))
    ws = sources.workspace
    if ws is not None and ws.is_dir() and not ws.resolve().is_relative_to(sources.state.resolve()):
        plan += [("workspace", ws, p) for p in _walk(ws, sources.exclude)]
    return plan


def _estimate(plan: list[tuple[str, Path, Path]]) -> int:
    total = 0
    for _, _, path in plan:
        with contextlib.suppress(OSError):
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
    return total


def _add(
    tar: tarfile.TarFile,
    manifest: dict[str, Any],
    root_name: str,
    root: Path,
    path: Path,
    progress: Progress | None,
) -> None:
    name = f"{root_name}/{path.relative_to(root).as_posix()}"
    try:
        info = path.lstat()
    except FileNotFoundError:
        return  # deleted since the walk
    member = tarfile.TarInfo(name)
    member.mode, member.mtime = stat.S_IMODE(info.st_mode), int(info.st_mtime)
    if stat.S_ISDIR(info.st_mode):
        member.type = tarfile.DIRTYPE
        tar.addfile(member)
        manifest["entries"].append({"path": name, "type": "dir", "mode": member.mode})
    elif stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        inside = os.path.normpath(path.parent / target)
        if os.path.isabs(target) or not Path(inside).is_relative_to(root):
            manifest["skipped"].append({"path": name, "reason": f"symlink leaving its root: {target}"})
            return
        member.type, member.linkname = tarfile.SYMTYPE, target
        tar.addfile(member)
        manifest["entries"].append({"path": name, "type": "symlink", "target": target})
    elif stat.S_ISREG(info.st_mode):
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
            try:
                member.size, read = _snapshot(path, spool)
            except FileNotFoundError:
                return
            if member.size < read:
                manifest["truncatedJsonl"].append(name)
            reader = _HashingReader(spool, progress)
            tar.addfile(member, reader)  # type: ignore[arg-type]
        manifest["entries"].append(
            {
                "path": name,
                "type": "file",
                "size": member.size,
                "sha256": reader.digest.hexdigest(),
                "mode": member.mode,
            }
        )
        manifest["totalBytes"] += member.size
    else:
        manifest["skipped"].append({"path": name, "reason": "not a regular file, directory or symlink"})


def create_backup(
    sources: Sources,
    directory: Path,
    *,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> Path:
    """Write a new archive into ``directory``; returns its path. Nothing is left on failure."""
    created = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    plan = _plan(sources)
    if on_total:
        on_total(_estimate(plan))
    roots = {"state": str(sources.state), "config": str(sources.config)}
    if sources.workspace is not None:
        roots["workspace"] = str(sources.workspace)
    manifest = empty_manifest(created, __version__, socket.gethostname(), roots)
    fd, tmp = tempfile.mkstemp(prefix=PARTIAL_PREFIX, suffix=".partial", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                for root_name, root, path in plan:
                    _add(tar, manifest, root_name, root, path, progress)
                data = json.dumps(manifest, indent=2).encode()
                member = tarfile.TarInfo(MANIFEST)
                member.size, member.mode, member.mtime = len(data), 0o600, int(created.timestamp())
                tar.addfile(member, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        final = directory / archive_name(created)
        counter = 1
        while final.exists():
            final = directory / archive_name(created).replace(".tar.gz", f"-{counter}.tar.gz")
            counter += 1
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final

"""``backup verify``: read an archive end to end and refuse anything unsafe or inconsistent.

Refused: absolute names, ``..`` parts, names outside ``state/ config/ workspace/``, duplicates,
hard links, device files and FIFOs, symlinks that are absolute or leave their root, members not
in the manifest, manifest entries missing from the archive, and any size or SHA-256 mismatch
(which also catches a header declaring more data than the archive holds).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from moltbot.ops.backup.layout import FORMAT, MANIFEST, ROOTS, BackupError

CHUNK = 1024 * 1024
MAX_MANIFEST = 64 * 1024 * 1024


class Writer(Protocol):
    def write(self, data: bytes, /) -> Any: ...
    def close(self) -> None: ...


Sink = Callable[[tarfile.TarInfo], Writer | None]
"""Called per accepted member (restore); a returned writer gets the member's bytes, then close()."""


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why this member may not be in a moltbot backup, or None."""
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or PurePosixPath(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        return f"{name}: absolute path"
    if ".." in parts or "\\" in name or posixpath.normpath(name) != name.rstrip("/"):
        return f"{name}: path traversal or unnormalised name"
    if name == MANIFEST:
        return None if member.isreg() else f"{name}: manifest is not a regular file"
    if not parts or parts[0] not in ROOTS:
        return f"{name}: outside state/, config/ and workspace/"
    if member.islnk():
        return f"{name}: hard link (backups never contain them)"
    if member.issym():
        target = member.linkname
        inside = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if posixpath.isabs(target) or not (inside == parts[0] or inside.startswith(parts[0] + "/")):
            return f"{name}: symlink to {target} leaves {parts[0]}/"
        return None
    if not (member.isreg() or member.isdir()):
        return f"{name}: device file, FIFO or other special member"
    return None


def _expected(entry: dict[str, Any], member: tarfile.TarInfo, digest: str | None) -> str | None:
    kind = "file" if member.isreg() else "dir" if member.isdir() else "symlink"
    if entry.get("type") != kind:
        return f"{member.name}: is a {kind}, the manifest says {entry.get('type')}"
    if kind == "file" and (entry.get("size") != member.size or entry.get("sha256") != digest):
        return f"{member.name}: size or SHA-256 differs from the manifest"
    if kind == "symlink" and entry.get("target") != member.linkname:
        return f"{member.name}: symlink target differs from the manifest"
    return None


def scan(archive: Path, sink: Sink | None = None) -> dict[str, Any]:
    """Check every member of ``archive``; returns the manifest or raises :class:`BackupError`."""
    problems: list[str] = []
    seen: dict[str, tuple[tarfile.TarInfo, str | None]] = {}
    manifest: dict[str, Any] | None = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                problem = member_problem(member)
                if problem is None and member.name in seen:
                    problem = f"{member.name}: appears twice"
                if problem:
                    problems.append(problem)
                    continue
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST:
                        problems.append("manifest.json is implausibly large")
                        continue
                    handle = tar.extractfile(member)
                    manifest = json.loads(handle.read()) if handle else None
                    seen[member.name] = (member, None)
                    continue
                handle = tar.extractfile(member) if member.isreg() else None
                out = sink(member) if sink else None
                digest = None
                try:
                    if handle is not None:
                        sha = hashlib.sha256()
                        while chunk := handle.read(CHUNK):
                            sha.update(chunk)
                            if out is not None:
                                out.write(chunk)
                        digest = sha.hexdigest()
                finally:
                    if out is not None:
                        out.close()
                seen[member.name] = (member, digest)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"{archive} is damaged or not a moltbot backup: {exc}", problems) from None
    if manifest is None or manifest.get("format") != FORMAT:
        problems.append("no moltbot manifest.json in the archive")
        raise BackupError(f"{archive} failed verification", problems)
    entries = {e.get("path"): e for e in manifest.get("entries", []) if isinstance(e, dict)}
    for name, (member, digest) in seen.items():
        if name == MANIFEST:
            continue
        entry = entries.get(name)
        problem = f"{name}: not listed in the manifest" if entry is None else _expected(entry, member, digest)
        if problem:
            problems.append(problem)
    problems += [f"{name}: listed in the manifest but missing" for name in entries if name not in seen]
    if problems:
        raise BackupError(f"{archive} failed verification", problems)
    return manifest


def verify(archive: Path) -> dict[str, Any]:
    """Verify ``archive`` (see module doc); returns its manifest."""
    return scan(archive)


def target_inside(root: Path, relative: str) -> Path:
    """``root/relative``, refusing anything that resolves outside ``root``."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise BackupError(f"{relative} would be written outside {root}")
    return path

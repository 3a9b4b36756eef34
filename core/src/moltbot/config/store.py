"""Durable config writes and dotted-path edits of the raw (unexpanded) config document."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as 0700 (``mkdir(parents=True, mode=...)`` only
    applies the mode to the last directory; state must not be readable by other users)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, keep_backup: bool = True) -> None:
    """Write ``data`` so that a crash at any point leaves either the old or the new file.

    Temp file in the same directory, fsync, the previous file kept as ``<name>.bak``, rename,
    fsync of the directory. The directory is created 0700 when missing.
    """
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_backup and path.exists():
            backup = path.with_name(path.name + ".bak")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(backup)
            os.link(path, backup)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def dump(data: dict[str, Any]) -> bytes:
    """The on-disk form: plain JSON (valid JSON5), two-space indent, trailing newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def write_config(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, dump(data))


def content_hash(data: dict[str, Any]) -> str:
    """A stable hash of a config document, for compare-and-swap edits."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def split_path(dotted: str) -> list[str | int]:
    """``"channels.whatsapp.allowFrom[0]"`` -> ``["channels", "whatsapp", "allowFrom", 0]``."""
    parts: list[str | int] = []
    pos = 0
    for match in _PART_RE.finditer(dotted):
        between = dotted[pos : match.start()]
        if between not in ("", "."):
            raise ValueError(f"cannot parse config path {dotted!r}")
        parts.append(match[1] if match[1] is not None else int(match[2]))
        pos = match.end()
    if not parts or pos != len(dotted):
        raise ValueError(f"cannot parse config path {dotted!r}")
    return parts


_MISSING = object()


def get_path(data: Any, dotted: str) -> Any:
    """The value at ``dotted``; raises ``KeyError`` naming the first missing part."""
    node = data
    for part in split_path(dotted):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise KeyError(f"{dotted}: no value at {part!r}") from None
    return node


def set_path(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``dotted``, creating objects on the way."""
    result = json.loads(json.dumps(data))
    parts = split_path(dotted)
    node: Any = result
    for part, following in itertools.pairwise(parts):
        if isinstance(part, int):
            node = node[part]
            continue
        if not isinstance(node.get(part, _MISSING), dict | list):
            node[part] = [] if isinstance(following, int) else {}
        node = node[part]
    last = parts[-1]
    if isinstance(last, int) and isinstance(node, list) and last == len(node):
        node.append(value)
    else:
        node[last] = value
    return result


def unset_path(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    """A copy of ``data`` without ``dotted``; raises ``KeyError`` when there is nothing to unset."""
    result = json.loads(json.dumps(data))
    parts = split_path(dotted)
    try:
        parent: Any = result
        for part in parts[:-1]:
            parent = parent[part]
        del parent[parts[-1]]
    except (KeyError, IndexError, TypeError):
        raise KeyError(f"{dotted}: nothing to unset") from None
    return result

"""Turning a path the model wrote into a file we may touch.

Sandboxed sessions are confined to the workspace: absolute paths, ``..``, symlinks that lead
outside and hard-linked files (whose other name may be outside) are refused. Every session is
kept out of ``/proc``, ``/sys`` and ``/dev`` (``/proc/self/environ`` holds the gateway's secrets).
Opening uses ``O_NOFOLLOW`` so a symlink swapped in after the check is not followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from moltbot.interfaces.tool import ToolContext, ToolError

FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_path(ctx: ToolContext, raw: str) -> Path:
    """The real path ``raw`` names (relative paths are relative to the workspace)."""
    if not raw or not raw.strip():
        raise ToolError("path is empty")
    if "\x00" in raw:
        raise ToolError("path contains a NUL byte")
    pure = PurePosixPath(os.path.expanduser(raw) if not ctx.sandboxed else raw)
    workspace = Path(os.path.realpath(ctx.workspace))
    if ctx.sandboxed:
        if pure.is_absolute():
            raise ToolError(
                f"{raw}: absolute paths are not allowed in a sandboxed session;"
                " use a path relative to the workspace"
            )
        if ".." in pure.parts:
            raise ToolError(f"{raw}: '..' is not allowed in a sandboxed session")
    real = Path(os.path.realpath(workspace / pure))
    for root in FORBIDDEN_ROOTS:
        if _inside(real, root):
            raise ToolError(f"{raw}: {root} is off limits")
    if ctx.sandboxed and not _inside(real, workspace):
        raise ToolError(f"{raw}: resolves outside the workspace (through a symlink); refused")
    return real


def display(ctx: ToolContext, path: Path) -> str:
    """``path`` relative to the workspace when it is inside, for messages to the model."""
    workspace = Path(os.path.realpath(ctx.workspace))
    return str(path.relative_to(workspace)) if _inside(path, workspace) and path != workspace else str(path)


def _check_opened(ctx: ToolContext, raw: str, fd: int) -> os.stat_result:
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{raw} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{raw} is not a regular file")
    if ctx.sandboxed and info.st_nlink > 1:
        raise ToolError(f"{raw} has {info.st_nlink} hard links (one may be outside the workspace); refused")
    return info


def read_bytes(ctx: ToolContext, raw: str, limit: int) -> tuple[Path, bytes, int]:
    """``(real path, up to limit bytes, full size)`` of an existing regular file."""
    path = resolve_path(ctx, raw)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ToolError(f"{raw}: no such file") from None
    except OSError as exc:
        raise ToolError(f"{raw}: cannot open ({exc.strerror})") from None
    try:
        info = _check_opened(ctx, raw, fd)
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit)
    finally:
        os.close(fd)
    return path, data, info.st_size


def write_bytes(ctx: ToolContext, raw: str, data: bytes, *, create_dirs: bool = True) -> Path:
    """Replace (or create) the file atomically: temp file in the same directory, then rename.

    Renaming never writes through a hard link or a symlink at the destination.
    """
    path = resolve_path(ctx, raw)
    if path.is_dir():
        raise ToolError(f"{raw} is a directory")
    if ctx.sandboxed and path.exists():
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            _check_opened(ctx, raw, fd)
        finally:
            os.close(fd)
    if create_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise ToolError(f"{raw}: the directory does not exist")
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    tmp = path.with_name(f".{path.name}.moltbot-tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ToolError(f"{raw}: cannot write ({exc.strerror})") from None
    return path


def delete_file(ctx: ToolContext, raw: str) -> Path:
    path = resolve_path(ctx, raw)
    if not path.is_file():
        raise ToolError(f"{raw}: no such file")
    path.unlink()
    return path

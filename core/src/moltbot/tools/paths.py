"""Turning a path the model wrote into a file we may touch.

Sandboxed sessions are confined to the workspace: absolute paths, ``..``, symlinks that lead
outside and hard-linked files (whose other name may be outside) are refused. Every session is
kept out of ``/proc``, ``/sys`` and ``/dev`` (``/proc/self/environ`` holds the gateway's secrets).

The check is not a check-then-use race: after resolving, a sandboxed path is opened component by
component from the workspace with ``O_NOFOLLOW``, so a symlink swapped in meanwhile (say by a
sandboxed command) is refused rather than followed, and the file itself is used through the
directory's file descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from moltbot.interfaces.tool import ToolContext, ToolError

FORBIDDEN_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _workspace(ctx: ToolContext) -> Path:
    return Path(os.path.realpath(ctx.workspace))


def resolve_path(ctx: ToolContext, raw: str) -> Path:
    """The real path ``raw`` names (relative paths are relative to the workspace)."""
    if not raw or not raw.strip():
        raise ToolError("path is empty")
    if "\x00" in raw:
        raise ToolError("path contains a NUL byte")
    pure = PurePosixPath(raw if ctx.sandboxed else os.path.expanduser(raw))
    workspace = _workspace(ctx)
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
    workspace = _workspace(ctx)
    return str(path.relative_to(workspace)) if _inside(path, workspace) and path != workspace else str(path)


@dataclass(frozen=True)
class Entry:
    """A file name inside an open directory: use ``dir_fd`` + ``name``, never ``path``, for I/O."""

    raw: str
    path: Path
    dir_fd: int
    name: str

    def lstat(self) -> os.stat_result | None:
        try:
            return os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None


@contextlib.contextmanager
def open_entry(ctx: ToolContext, raw: str, *, create_dirs: bool = False) -> Iterator[Entry]:
    """Resolve ``raw`` and open its parent directory (walking with ``O_NOFOLLOW`` when sandboxed)."""
    path = resolve_path(ctx, raw)
    if path == _workspace(ctx) or path.parent == path:
        raise ToolError(f"{raw} is a directory")
    if ctx.sandboxed:
        root, parts = _workspace(ctx), path.relative_to(_workspace(ctx)).parts[:-1]
    else:
        root, parts = Path("/"), path.parent.parts[1:]
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            fd = _descend(fd, part, raw, create=create_dirs, nofollow=ctx.sandboxed)
        yield Entry(raw, path, fd, path.name)
    finally:
        os.close(fd)


def _descend(fd: int, part: str, raw: str, *, create: bool, nofollow: bool) -> int:
    flags = _DIR_FLAGS | (os.O_NOFOLLOW if nofollow else 0)
    try:
        try:
            child = os.open(part, flags, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise ToolError(f"{raw}: the directory {part!r} does not exist") from None
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            child = os.open(part, flags, dir_fd=fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ToolError(
                f"{raw}: {part!r} is not a plain directory (changed meanwhile?); refused"
            ) from None
        raise ToolError(f"{raw}: cannot open {part!r} ({exc.strerror})") from None
    finally:
        os.close(fd)
    return child


def _check_regular(ctx: ToolContext, raw: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{raw} is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{raw} is not a regular file")
    if ctx.sandboxed and info.st_nlink > 1:
        raise ToolError(f"{raw} has {info.st_nlink} hard links (one may be outside the workspace); refused")


def read_bytes(ctx: ToolContext, raw: str, limit: int) -> tuple[Path, bytes, int]:
    """``(real path, up to limit bytes, full size)`` of an existing regular file."""
    with open_entry(ctx, raw) as entry:
        try:
            fd = os.open(entry.name, _READ_FLAGS, dir_fd=entry.dir_fd)
        except FileNotFoundError:
            raise ToolError(f"{raw}: no such file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ToolError(f"{raw}: is a symlink that changed meanwhile; refused") from None
            raise ToolError(f"{raw}: cannot open ({exc.strerror})") from None
        try:
            info = os.fstat(fd)
            _check_regular(ctx, raw, info)
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(limit)
    return entry.path, data, info.st_size


def write_bytes(ctx: ToolContext, raw: str, data: bytes, *, create_dirs: bool = True) -> Path:
    """Replace (or create) the file atomically: temp file in the same directory, then rename.

    Renaming replaces the name itself, so it never writes through a hard link or a symlink.
    """
    with open_entry(ctx, raw, create_dirs=create_dirs) as entry:
        info = entry.lstat()
        if info is not None:
            _check_regular(ctx, raw, info)
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o644
        tmp = f".{entry.name}.moltbot-tmp-{os.getpid()}"
        try:
            fd = os.open(
                tmp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                mode,
                dir_fd=entry.dir_fd,
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, mode, dir_fd=entry.dir_fd)
            os.replace(tmp, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=entry.dir_fd)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=entry.dir_fd)
            raise ToolError(f"{raw}: cannot write ({exc.strerror})") from None
        return entry.path


def delete_file(ctx: ToolContext, raw: str) -> Path:
    with open_entry(ctx, raw) as entry:
        info = entry.lstat()
        if info is None:
            raise ToolError(f"{raw}: no such file")
        _check_regular(ctx, raw, info)
        os.unlink(entry.name, dir_fd=entry.dir_fd)
        return entry.path

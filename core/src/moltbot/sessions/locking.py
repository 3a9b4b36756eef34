"""Cross-process write locks that a killed process can never leave stuck.

Locks are ``flock`` locks, which the kernel drops the moment the holder dies (even on SIGKILL),
so a lock file left behind by a crashed process is stale by construction and never blocks. The
holder's pid is written into ``.lock`` files only to name it in the "busy" error; whether it is
alive is checked with ``psutil`` for that message, not trusted for correctness.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from moltbot.config.store import ensure_private_dir
from moltbot.errors import BusyError

LOCK_TIMEOUT = 10.0
"""Seconds to wait for another process's write to finish before giving up."""


def _wait_for(fd: int, what: str, timeout: float, holder: Path | None) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise BusyError(f"{what} is locked by {describe_holder(holder)}") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def describe_holder(lock_file: Path | None) -> str:
    """``"pid 123 (alive)"`` from a ``.lock`` file, or ``"another process"`` when unknown."""
    try:
        pid = int((lock_file.read_text().split() or ["?"])[0]) if lock_file else 0
    except (OSError, ValueError):
        pid = 0
    if pid <= 0:
        return "another process"
    return f"pid {pid} ({'alive' if psutil.pid_exists(pid) else 'dead'})"


@contextlib.contextmanager
def locked_append_fd(path: Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[int]:
    """An ``O_APPEND`` descriptor of ``path`` held under an exclusive ``flock``.

    Blocking (it may sleep up to ``timeout``): run it in a worker thread from async code.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        _wait_for(fd, f"transcript {path.name}", timeout, None)
        yield fd
    finally:
        os.close(fd)  # closing releases the flock


@contextlib.contextmanager
def pid_lock(lock_file: Path, *, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive lock on ``lock_file`` that records the holder's pid while held."""
    ensure_private_dir(lock_file.parent)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _wait_for(fd, str(lock_file.with_suffix("").name), timeout, lock_file)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)

"""A bounded, persisted set of message ids already handled (inbound) or sent (outbound keys).

Storage is an append-only log, one id per line, fsynced per append so a crash right after
accepting a message still remembers it. When the log grows past twice the bound it is rewritten
atomically with the newest ``limit`` ids. A torn last line (crash mid-append) is ignored.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from moltbot.config.store import atomic_write


class DedupeStore:
    """``seen(key)`` / ``remember(key)``; keys are like ``telegram:1234`` or ``out:<idempotency>``."""

    def __init__(self, path: Path, *, limit: int = 10_000) -> None:
        self.path = path
        self.limit = limit
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lines = 0
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        complete = raw if raw.endswith(b"\n") else raw[: raw.rfind(b"\n") + 1]
        for line in complete.decode("utf-8", "replace").splitlines():
            if line:
                self._keys[line] = None
                self._keys.move_to_end(line)
                self._lines += 1
        while len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        if len(complete) != len(raw):
            self._compact()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def remember(self, key: str) -> bool:
        """Record ``key``; False when it was already known (the caller should drop the item)."""
        if "\n" in key or "\r" in key:
            raise ValueError("a dedupe key cannot contain a line break")
        if key in self._keys:
            return False
        self._keys[key] = None
        while len(self._keys) > self.limit:
            self._keys.popitem(last=False)
        if self._lines >= 2 * self.limit:
            self._compact()
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, key.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
        return True

    def _compact(self) -> None:
        data = "".join(f"{k}\n" for k in self._keys).encode()
        atomic_write(self.path, data, keep_backup=False)
        self._lines = len(self._keys)

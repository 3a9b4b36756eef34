"""The first cache level: an LRU of encoded values bounded by entry count and bytes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

ENTRY_OVERHEAD = 64
"""Bytes charged per entry besides key and value, so many tiny entries still count."""


class MemoryLRU:
    """Least-recently-used eviction, per-entry absolute expiry on ``clock``.

    Values are the JSON bytes, not live objects, so a caller mutating what it got back cannot
    change what the next caller gets.
    """

    def __init__(self, max_entries: int, max_bytes: int, clock: Callable[[], float]) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self.clock():
            self._remove(key)
            return None
        self._data.move_to_end(key)
        return value

    def set(self, key: str, value: bytes, expires: float | None) -> None:
        self._remove(key)
        size = _size(key, value)
        if size > self.max_bytes:
            return  # larger than the whole level: the backend alone keeps it
        self._data[key] = (value, expires)
        self.bytes += size
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._data))
            self._remove(oldest)
            self.evictions += 1

    def delete(self, key: str) -> None:
        self._remove(key)

    def clear(self, prefix: str = "") -> int:
        doomed = [k for k in self._data if k.startswith(prefix)]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    def evict_expired(self) -> int:
        """Drop every expired entry; the cache service calls this on its interval."""
        now = self.clock()
        doomed = [k for k, (_, expires) in self._data.items() if expires is not None and expires <= now]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    def _remove(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self.bytes -= _size(key, item[0])


def _size(key: str, value: bytes) -> int:
    return len(key) + len(value) + ENTRY_OVERHEAD

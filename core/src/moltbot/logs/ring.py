"""Recent log lines in memory, addressed by a monotonically increasing cursor (backs ``logs.tail``)."""

from __future__ import annotations

from collections import deque
from typing import Any

LEVELS = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "SUCCESS": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def level_number(name: str) -> int:
    """``"warn"``/``"WARNING"``/``"error"`` -> loguru's numeric severity."""
    upper = name.upper()
    return LEVELS["WARNING" if upper == "WARN" else upper]


class RingBuffer:
    """The last ``capacity`` records as JSON lines; line ``i`` has cursor ``i + 1``.

    A client keeps the cursor it was given and asks again; when its cursor fell off the front
    the answer says ``truncated`` (lines were lost); when the cursor is from the future (the
    gateway restarted) the answer says ``reset`` and starts over.
    """

    def __init__(self, capacity: int = 2000) -> None:
        self._lines: deque[tuple[int, str]] = deque(maxlen=capacity)
        self.next_cursor = 0

    def append(self, level: str, line: str) -> None:
        self._lines.append((LEVELS.get(level, 20), line))
        self.next_cursor += 1

    def tail(self, cursor: int | None = None, limit: int = 200, level: str | None = None) -> dict[str, Any]:
        first = self.next_cursor - len(self._lines)
        reset = cursor is not None and cursor > self.next_cursor
        start = max(first, self.next_cursor - limit) if cursor is None or reset else max(cursor, first)
        truncated = cursor is not None and not reset and cursor < first
        floor = level_number(level) if level else 0
        lines: list[str] = []
        position = start
        for severity, line in list(self._lines)[start - first :]:
            if len(lines) >= limit:
                break
            position += 1
            if severity >= floor:
                lines.append(line)
        return {"cursor": position, "lines": lines, "truncated": truncated, "reset": reset}

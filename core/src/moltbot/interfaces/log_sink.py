"""The log-sink interface: where log records go besides the console."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trio


@dataclass(frozen=True, kw_only=True)
class LogRecord:
    """One log event, already redacted of secrets."""

    time: datetime
    level: str
    message: str
    name: str
    """The logging module, e.g. ``moltbot.gateway``."""
    fields: Mapping[str, Any]
    """Context bound to the record: subsystem, plugin, session, run ids, and so on."""
    exception: str | None = None


class LogSink(ABC):
    """A destination for log records.

    Invariants:
        ``emit`` is synchronous, cheap and never blocks: loguru calls it on the logging thread
        (its coroutine sinks need asyncio, which we do not run). A sink that does I/O puts the
        record on a bounded queue and drains it in ``run``; when the queue is full it drops the
        record and counts the drop in ``statistics()``.

    Error handling:
        ``emit`` must not raise. ``run`` may raise; the runtime logs it to the console and
        restarts the sink.
    """

    @abstractmethod
    def emit(self, record: LogRecord) -> None:
        """Accept one record."""

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Drain queued records until cancelled. The default has nothing to drain."""
        task_status.started()
        await trio.sleep_forever()

    def close(self) -> None:  # noqa: B027 - optional
        """Flush and release files or sockets; called once at shutdown."""

    def statistics(self) -> dict[str, int]:
        """Counters such as ``emitted`` and ``dropped``."""
        return {}

"""Conformance suite for log sinks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import trio

from moltbot.interfaces import (
    LogRecord,
    LogSink,
)
from moltbot.testing.conformance._common import wait_until


def sample_record(message: str = "conformance record", **fields: Any) -> LogRecord:
    return LogRecord(
        time=datetime.now(UTC), level="INFO", message=message, name="moltbot.conformance", fields=fields
    )


@dataclass
class LogSinkHarness:
    sink: LogSink
    received: Callable[[], Awaitable[list[str]]]
    """Messages that reached the destination so far."""


class LogSinkConformance:
    """Provide an async ``sink_harness`` fixture returning a :class:`LogSinkHarness`."""

    async def test_emitted_records_reach_the_destination(self, sink_harness: LogSinkHarness) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(sink_harness.sink.run)
            sink_harness.sink.emit(sample_record("first conformance record", session="s1"))

            async def arrived() -> bool:
                return any("first conformance record" in m for m in await sink_harness.received())

            await wait_until(arrived, "the record to reach the destination")
            nursery.cancel_scope.cancel()
        sink_harness.sink.close()

    async def test_statistics_are_counters(self, sink_harness: LogSinkHarness) -> None:
        sink_harness.sink.emit(sample_record())
        stats = sink_harness.sink.statistics()
        assert all(isinstance(v, int) for v in stats.values())
        sink_harness.sink.close()

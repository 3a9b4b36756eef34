"""A base for log sinks whose writes are slow: ``emit`` queues, ``run`` drains in a trio task.

The queue is a bounded trio memory channel fed with ``send_nowait``: when it is full the record
is dropped and counted, so a stuck destination never blocks the code that logged. Records
logged from another thread are handed to the trio thread with ``TrioToken.run_sync_soon``.
"""

from __future__ import annotations

import threading
from abc import abstractmethod

import trio

from moltbot.interfaces.log_sink import LogRecord, LogSink


class QueuedLogSink(LogSink):
    """Subclasses implement :meth:`deliver` for a batch of up to ``batch_size`` records."""

    def __init__(self, *, capacity: int = 1000, batch_size: int = 1, linger: float = 0.0) -> None:
        self._send, self._receive = trio.open_memory_channel[LogRecord](capacity)
        self.batch_size = batch_size
        self.linger = linger
        """Seconds to wait for a batch to fill after its first record (0: send what is there)."""
        self.emitted = 0
        self.delivered = 0
        self.dropped = 0
        self.failed = 0
        self._token: trio.lowlevel.TrioToken | None = None
        self._thread: int | None = None

    def emit(self, record: LogRecord) -> None:
        if self._token is not None and threading.get_ident() != self._thread:
            try:
                self._token.run_sync_soon(self._put, record)
            except trio.RunFinishedError:
                self.dropped += 1
            return
        self._put(record)

    def _put(self, record: LogRecord) -> None:
        try:
            self._send.send_nowait(record)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            self.dropped += 1
        else:
            self.emitted += 1

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._thread = threading.get_ident()
        task_status.started()
        try:
            while True:
                batch = [await self._receive.receive()]
                with trio.move_on_after(self.linger):
                    while len(batch) < self.batch_size:
                        try:
                            batch.append(self._receive.receive_nowait())
                        except trio.WouldBlock:
                            if not self.linger:
                                break
                            batch.append(await self._receive.receive())
                await self.deliver(batch)
        finally:
            self._token = None

    @abstractmethod
    async def deliver(self, batch: list[LogRecord]) -> None:
        """Write ``batch``; count successes in ``delivered`` and losses in ``failed``.

        Raising stops the sink's task (the logs service restarts it after a pause)."""

    def pending(self) -> int:
        return self._send.statistics().current_buffer_used

    def statistics(self) -> dict[str, int]:
        return {
            "emitted": self.emitted,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "failed": self.failed,
            "pending": self.pending(),
        }

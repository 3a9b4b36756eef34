"""The ``logs`` service: runs every sink's ``run`` (queue drains) for the life of the gateway.

Restart policy, in one place: a sink whose ``run`` raises is reported on the console and
restarted after a pause that doubles from 1 s up to 60 s; the other sinks carry on.
"""

from __future__ import annotations

from typing import Any

import trio
from loguru import logger

from moltbot.interfaces.log_sink import LogSink
from moltbot.interfaces.service import Service
from moltbot.logs.setup import LoggingHandle

RESTART_FIRST = 1.0
RESTART_MAX = 60.0


class LogsService(Service):
    """``app.services["logs"]``: owns the :class:`LoggingHandle` (``.handle``) while running."""

    def __init__(self, handle: LoggingHandle) -> None:
        self.handle = handle
        self.restarts: dict[str, int] = {}

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with trio.open_nursery() as nursery:
                for name, sink in self.handle.sinks.items():
                    await nursery.start(self._supervise, name, sink)
                task_status.started()
        finally:
            self.handle.close()

    async def _supervise(
        self, name: str, sink: LogSink, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        task_status.started()
        delay = RESTART_FIRST
        while True:
            try:
                await sink.run()
                return
            except Exception as exc:
                self.restarts[name] = self.restarts.get(name, 0) + 1
                logger.bind(subsystem="logs", sink=name).warning(
                    "log sink {} failed ({}); restarting in {:.0f}s", name, exc, delay
                )
            await trio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX)

    def status(self) -> dict[str, Any]:
        return {**self.handle.statistics(), "restarts": dict(self.restarts)}

"""Bounded resources (agent runs, exec processes, browser instances) with admission control.

A caller takes a slot with ``async with manager.acquire("agent", holder="session:x"):`` and
chooses to wait (optionally up to ``timeout`` seconds) or to fail fast with :class:`BusyError`.
Slots are trio semaphores (FIFO-fair) and are released on every exit, cancellation included.
Before a slot is handed out the machine itself is checked through a :class:`SystemProbe`:
available memory against the kind's requirement, disk usage, CPU usage for exec processes and
browsers (agent runs mostly wait on the model provider, so a busy CPU does not stop them), and,
for agent runs, this process's RSS against ``performance.agents.memoryLimit``.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trio
from loguru import logger

from moltbot.config.model import PerformanceConfig
from moltbot.errors import BusyError
from moltbot.interfaces.service import Service
from moltbot.metrics import MetricsRegistry
from moltbot.system import MB, SystemProbe, SystemReading

Shedder = Callable[[], int]
"""Drops droppable memory (caches) when called; returns roughly how many bytes it freed."""


@dataclass
class Lease:
    """One held slot: who holds it and since when."""

    kind: str
    holder: str
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    _started: float = field(default_factory=time.monotonic, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "since": self.since.isoformat(),
            "heldSeconds": round(time.monotonic() - self._started, 3),
        }


@dataclass
class _Pool:
    kind: str
    label: str
    setting: str
    limit: int
    requirement: int
    requirement_setting: str
    semaphore: trio.Semaphore
    holders: list[Lease] = field(default_factory=list)
    waiters: list[str] = field(default_factory=list)


class ResourceManager(Service):
    """Admission control for the gateway's bounded resources; also the ``resources`` service.

    ``run`` checks memory pressure every ``performance.resources.checkInterval`` ms: above
    ``gcThreshold`` it collects garbage and calls every registered shedder; above ``memoryLimit``
    (after that) new agent runs are refused until usage drops.
    """

    def __init__(
        self,
        performance: PerformanceConfig,
        *,
        probe: SystemProbe,
        metrics: MetricsRegistry | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        self.performance = performance
        self.probe = probe
        self.metrics = metrics
        self.poll_interval = poll_interval
        """Seconds between re-checks of system state while a waiting caller is refused by it."""
        agents, tools = performance.agents, performance.tools
        self._pools = {
            pool.kind: pool
            for pool in (
                _pool("agent", "agent runs", "performance.agents.maxConcurrentRuns",
                      agents.max_concurrent_runs, agents.memory_requirement,
                      "performance.agents.memoryRequirement"),
                _pool("exec", "exec processes", "performance.tools.exec.maxProcesses",
                      tools.exec.max_processes, tools.exec.memory_requirement,
                      "performance.tools.exec.memoryRequirement"),
                _pool("browser", "browser instances", "performance.tools.browser.maxInstances",
                      tools.browser.max_instances, tools.browser.memory_limit,
                      "performance.tools.browser.memoryLimit"),
            )
        }  # fmt: skip
        self._shedders: dict[str, Shedder] = {}
        self.last: SystemReading | None = None
        self.over_memory_limit = False
        self.reliefs = 0
        self._relieved_at = -math.inf
        for pool in self._pools.values():
            self._publish(pool)

    # ------------------------------------------------------------ acquiring

    @asynccontextmanager
    async def acquire(
        self, kind: str, *, holder: str, wait: bool = True, timeout: float | None = None
    ) -> AsyncIterator[Lease]:
        """Hold one slot of ``kind`` for the body of the ``async with``.

        ``wait=False`` raises :class:`BusyError` at once when no slot is free or the system
        refuses; ``wait=True`` queues (FIFO) and re-checks system state every
        ``poll_interval`` s, raising :class:`BusyError` after ``timeout`` seconds (``None``:
        no deadline).
        """
        pool = self._pool_of(kind)
        if pool.limit == 0:
            raise BusyError(f"{pool.label} are disabled ({pool.setting} is 0)")
        deadline = trio.current_time() + timeout if wait and timeout is not None else math.inf
        reason: str | None = None
        pool.waiters.append(holder)
        self._publish(pool)
        try:
            with trio.move_on_at(deadline) as scope:
                while (reason := self._refusal(pool)) is not None:
                    if not wait:
                        raise BusyError(reason)
                    await trio.sleep(self.poll_interval)
                if wait:
                    await pool.semaphore.acquire()
                else:
                    try:
                        pool.semaphore.acquire_nowait()
                    except trio.WouldBlock:
                        raise BusyError(self._busy(pool)) from None
            if scope.cancelled_caught:
                raise BusyError(f"{reason or self._busy(pool)} (gave up after waiting {timeout:g} s)")
        finally:
            pool.waiters.remove(holder)
            self._publish(pool)
        lease = Lease(kind, holder)
        pool.holders.append(lease)
        self._publish(pool)
        try:
            yield lease
        finally:
            pool.holders.remove(lease)
            pool.semaphore.release()
            self._publish(pool)

    def _pool_of(self, kind: str) -> _Pool:
        try:
            return self._pools[kind]
        except KeyError:
            raise ValueError(f"unknown resource kind {kind!r}; known: {', '.join(self._pools)}") from None

    def _busy(self, pool: _Pool) -> str:
        names = [lease.holder for lease in pool.holders]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        waiting = len(pool.waiters) - 1
        return f"{pool.label} are busy: {len(names)} of {pool.limit} in use by {shown} ({pool.setting})" + (
            f"; {waiting} more waiting" if waiting > 0 else ""
        )

    def _refusal(self, pool: _Pool) -> str | None:
        """Why the system cannot take one more ``pool.kind`` now, or ``None``."""
        snap = self.probe.read()
        limits = self.performance.resources
        if pool.kind == "agent":
            if snap.process_rss > self.performance.agents.memory_limit * MB and (
                time.monotonic() - self._relieved_at >= limits.check_interval / 1000
            ):
                snap = self._relieve()
            self.over_memory_limit = snap.process_rss > self.performance.agents.memory_limit * MB
            if self.over_memory_limit:
                return (
                    f"moltbot is using {snap.process_rss / MB:.0f} MB, above performance.agents."
                    f"memoryLimit ({self.performance.agents.memory_limit} MB) even after collecting "
                    "garbage and shedding caches; new agent runs are refused until it drops"
                )
        if snap.memory_available < pool.requirement * MB:
            return (
                f"only {snap.memory_available / MB:.0f} MB of memory is available and one of the "
                f"{pool.label} needs {pool.requirement} MB ({pool.requirement_setting})"
            )
        if pool.kind != "agent" and snap.cpu > limits.cpu_limit:
            return (
                f"CPU usage is {snap.cpu:.0%}, above performance.resources.cpuLimit "
                f"({limits.cpu_limit:.0%}); not starting more {pool.label}"
            )
        if snap.disk > limits.disk_limit:
            return (
                f"the state dir's disk is {snap.disk:.0%} full, above performance.resources."
                f"diskLimit ({limits.disk_limit:.0%}); not starting more {pool.label}"
            )
        return None

    # ------------------------------------------------------------ memory pressure

    def register_shedder(self, name: str, shedder: Shedder) -> None:
        """Call ``shedder`` whenever memory is above ``gcThreshold`` (caches register here)."""
        self._shedders[name] = shedder

    def check(self) -> SystemReading:
        """One pressure check: GC and shedding above ``gcThreshold``, refusal state above
        ``memoryLimit``. Called by :meth:`run` on its interval."""
        snap = self.probe.read()
        if snap.process_rss > self.performance.agents.gc_threshold * MB:
            snap = self._relieve()
        over = snap.process_rss > self.performance.agents.memory_limit * MB
        if over != self.over_memory_limit:
            if over:
                logger.warning(
                    "memory {:.0f} MB is above performance.agents.memoryLimit ({} MB): refusing new"
                    " agent runs",
                    snap.process_rss / MB,
                    self.performance.agents.memory_limit,
                )
            else:
                logger.info(
                    "memory {:.0f} MB is below the limit again: agent runs admitted", snap.process_rss / MB
                )
        self.over_memory_limit = over
        self.last = snap
        return snap

    def _relieve(self) -> SystemReading:
        """Collect garbage and call every shedder; return a fresh reading."""
        self._relieved_at = time.monotonic()
        self.reliefs += 1
        unreachable = gc.collect()
        freed = 0
        for name, shedder in list(self._shedders.items()):
            try:
                freed += shedder()
            except Exception:
                logger.exception("shedder {} failed while relieving memory pressure", name)
        snap = self.probe.read()
        logger.info(
            "memory pressure: gc collected {} objects, shedders freed {:.1f} MB; RSS now {:.0f} MB",
            unreachable,
            freed / MB,
            snap.process_rss / MB,
        )
        self.last = snap
        return snap

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        interval = self.performance.resources.check_interval / 1000
        self.check()
        task_status.started()
        while True:
            await trio.sleep(interval)
            self.check()

    # ------------------------------------------------------------ visibility

    def in_use(self, kind: str) -> int:
        return len(self._pool_of(kind).holders)

    def waiting(self, kind: str) -> int:
        return len(self._pool_of(kind).waiters)

    def status(self) -> dict[str, Any]:
        """Holders, waiters and the last system reading, for ``moltbot status``."""
        return {
            "kinds": {
                pool.kind: {
                    "limit": pool.limit,
                    "inUse": len(pool.holders),
                    "waiting": len(pool.waiters),
                    "holders": [lease.to_json() for lease in pool.holders],
                    "waiters": list(pool.waiters),
                }
                for pool in self._pools.values()
            },
            "system": self.last.to_json() if self.last else None,
            "overMemoryLimit": self.over_memory_limit,
            "reliefs": self.reliefs,
        }

    def _publish(self, pool: _Pool) -> None:
        if self.metrics is not None:
            self.metrics.set("resources.in_use", len(pool.holders), kind=pool.kind)
            self.metrics.set("resources.waiting", len(pool.waiters), kind=pool.kind)


def _pool(
    kind: str, label: str, setting: str, limit: int, requirement: int, requirement_setting: str
) -> _Pool:
    return _Pool(kind, label, setting, limit, requirement, requirement_setting, trio.Semaphore(limit))

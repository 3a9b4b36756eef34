"""Host readings through a seam: :class:`PsutilProbe` in production, any :class:`SystemProbe`
in tests (inject values without patching psutil)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psutil


@dataclass(frozen=True, kw_only=True)
class SystemReading:
    """One look at the host. CPU and memory are fractions (0..1); network bytes are cumulative."""

    cpu: float
    """Whole-machine CPU busy fraction since the previous reading."""
    process_cpu: float
    """The watched process's CPU since the previous reading, in cores (1.0 = one core busy)."""
    process_rss: int
    process_uptime: float
    memory: float
    disk: float
    """Used fraction of the volume holding the state dir."""
    net_in: int
    net_out: int


class SystemProbe(Protocol):
    def read(self) -> SystemReading: ...


class PsutilProbe:
    """Reads psutil. CPU figures are deltas, so the first reading after construction covers
    the time since construction."""

    def __init__(self, disk_path: Path, pid: int | None = None) -> None:
        self.disk_path = disk_path
        self.process = psutil.Process(pid or os.getpid())
        self._cpu_times = psutil.cpu_times()
        self.process.cpu_percent(None)

    def _cpu(self) -> float:
        """Busy fraction from our own ``cpu_times`` deltas (``psutil.cpu_percent(None)`` keeps
        one global baseline that other samplers in the process would reset)."""
        now = psutil.cpu_times()
        before, self._cpu_times = self._cpu_times, now
        idle = (now.idle + getattr(now, "iowait", 0.0)) - (before.idle + getattr(before, "iowait", 0.0))
        total = _total(now) - _total(before)
        return min(max(1.0 - idle / total, 0.0), 1.0) if total > 0 else 0.0

    def read(self) -> SystemReading:
        net = psutil.net_io_counters()
        path = self.disk_path
        while not path.exists() and path != path.parent:
            path = path.parent  # the state dir may not exist yet; measure its volume anyway
        with self.process.oneshot():
            process_cpu = self.process.cpu_percent(None) / 100
            rss = self.process.memory_info().rss
            uptime = time.time() - self.process.create_time()
        return SystemReading(
            cpu=self._cpu(),
            process_cpu=process_cpu,
            process_rss=rss,
            process_uptime=max(uptime, 0.0),
            memory=psutil.virtual_memory().percent / 100,
            disk=psutil.disk_usage(str(path)).percent / 100,
            net_in=net.bytes_recv if net else 0,
            net_out=net.bytes_sent if net else 0,
        )


def _total(times: Any) -> float:
    """All CPU time; Linux's guest times are already inside user/nice, so they are left out."""
    return sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)

"""Host readings through one seam, shared by the metrics sampler and the resource manager.

:class:`PsutilProbe` reads the machine; :class:`FixedProbe` returns values a test sets, so tests
inject readings instead of patching psutil. Both only ever see a :class:`SystemProbe`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import psutil

MB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class SystemReading:
    """One look at the host. Fractions are 0..1; network bytes are cumulative counters."""

    cpu: float
    """Whole-machine CPU busy fraction over the probe's last CPU window."""
    process_cpu: float
    """The watched process's CPU over the same window, in cores (1.0 = one core busy)."""
    process_rss: int
    """Resident bytes of the watched process."""
    process_uptime: float
    memory: float
    """Used fraction of physical memory."""
    memory_available: int
    """Bytes the system can give without swapping (psutil ``available``)."""
    disk: float
    """Used fraction of the volume holding the state dir."""
    net_in: int
    net_out: int

    def to_json(self) -> dict[str, float]:
        """The admission-relevant figures, as ``moltbot status`` shows them."""
        return {
            "memoryAvailableMb": round(self.memory_available / MB, 1),
            "processRssMb": round(self.process_rss / MB, 1),
            "cpuUsage": round(self.cpu, 3),
            "diskUsage": round(self.disk, 3),
        }


class SystemProbe(Protocol):
    def read(self) -> SystemReading:
        """A fresh reading; a few syscalls, cheap enough for every admission check."""
        ...


class PsutilProbe:
    """Reads psutil for ``pid`` (default: this process); ``disk_path`` names the volume.

    CPU figures are deltas from our own ``cpu_times`` (``psutil.cpu_percent(None)`` keeps one
    global baseline other readers would reset), refreshed at most once per ``cpu_window``
    seconds: the metrics sampler reads on its interval (window 0), the resource manager on
    every admission, where a window of a few seconds keeps one busy instant from refusing work.
    The first reading covers the time since construction.
    """

    def __init__(
        self,
        disk_path: Path,
        *,
        pid: int | None = None,
        cpu_window: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.disk_path = disk_path
        self.process = psutil.Process(pid or os.getpid())
        self.cpu_window = cpu_window
        self.clock = clock
        self._cpu_times = psutil.cpu_times()
        self._cpu_at = clock()
        self._cpu = self._process_cpu = 0.0
        self.process.cpu_percent(None)

    def _refresh_cpu(self) -> None:
        now = self.clock()
        if now - self._cpu_at < self.cpu_window:
            return
        times = psutil.cpu_times()
        before, self._cpu_times, self._cpu_at = self._cpu_times, times, now
        idle = (times.idle + getattr(times, "iowait", 0.0)) - (before.idle + getattr(before, "iowait", 0.0))
        total = _total(times) - _total(before)
        if total > 0:
            self._cpu = min(max(1.0 - idle / total, 0.0), 1.0)
        self._process_cpu = self.process.cpu_percent(None) / 100

    def read(self) -> SystemReading:
        net = psutil.net_io_counters()
        memory = psutil.virtual_memory()
        self._refresh_cpu()
        with self.process.oneshot():
            rss = self.process.memory_info().rss
            uptime = time.time() - self.process.create_time()
        return SystemReading(
            cpu=self._cpu,
            process_cpu=self._process_cpu,
            process_rss=rss,
            process_uptime=max(uptime, 0.0),
            memory=memory.percent / 100,
            memory_available=memory.available,
            disk=psutil.disk_usage(str(_existing(self.disk_path))).percent / 100,
            net_in=net.bytes_recv if net else 0,
            net_out=net.bytes_sent if net else 0,
        )


@dataclass
class FixedProbe:
    """Returns its attributes as the reading; tests change them (or call :meth:`set`) between
    reads and count reads in ``reads``."""

    cpu: float = 0.1
    process_cpu: float = 0.05
    process_rss: int = 100 * MB
    process_uptime: float = 5.0
    memory: float = 0.3
    memory_available: int = 8 * 1024 * MB
    disk: float = 0.5
    net_in: int = 0
    net_out: int = 0
    reads: int = 0

    def set(self, **values: Any) -> None:
        known = {f.name for f in fields(SystemReading)}
        if unknown := set(values) - known:
            raise TypeError(f"not reading fields: {sorted(unknown)}")
        for name, value in values.items():
            setattr(self, name, value)

    def read(self) -> SystemReading:
        self.reads += 1
        values = {k: v for k, v in asdict(self).items() if k != "reads"}
        return SystemReading(**values)


def _total(times: Any) -> float:
    """All CPU time; Linux's guest times are already inside user/nice, so they are left out."""
    return sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def _existing(path: Path) -> Path:
    """The nearest existing ancestor, so a state dir not created yet still names its volume."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")

"""Reading real system state for admission checks, behind a seam tests can replace.

:class:`PsutilProbe` is the real one; :class:`FixedProbe` returns values a test (or an embedding
application without psutil's permissions) sets explicitly. The resource manager only ever talks
to a :class:`SystemProbe`, so tests inject a probe instead of monkeypatching psutil.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1024 * 1024
CPU_WINDOW = 5.0
"""Seconds a CPU reading covers at least; shorter windows are too spiky to refuse work on."""


@dataclass(frozen=True)
class SystemSnapshot:
    """One reading of the machine and of this process."""

    memory_available: int
    """Bytes of memory the system can give without swapping (psutil ``available``)."""
    process_rss: int
    """Bytes of resident memory of this process."""
    cpu_usage: float
    """System-wide CPU usage, 0-1, over the last window of at least :data:`CPU_WINDOW` s."""
    disk_usage: float
    """Used fraction, 0-1, of the volume holding the state dir."""

    def to_json(self) -> dict[str, float]:
        return {
            "memoryAvailableMb": round(self.memory_available / MB, 1),
            "processRssMb": round(self.process_rss / MB, 1),
            "cpuUsage": round(self.cpu_usage, 3),
            "diskUsage": round(self.disk_usage, 3),
        }


class SystemProbe(ABC):
    """Answers "how is the machine doing" for the resource manager."""

    @abstractmethod
    def snapshot(self) -> SystemSnapshot:
        """A fresh reading; cheap enough to call on every admission (a few syscalls)."""


class PsutilProbe(SystemProbe):
    """Real readings through psutil; ``state_dir`` names the volume whose usage counts."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._process = psutil.Process()
        self._cpu_times = psutil.cpu_times()
        self._cpu_at = time.monotonic()
        self._cpu_usage = 0.0

    def snapshot(self) -> SystemSnapshot:
        return SystemSnapshot(
            memory_available=psutil.virtual_memory().available,
            process_rss=self._process.memory_info().rss,
            cpu_usage=self._cpu(),
            disk_usage=psutil.disk_usage(str(_existing(self.state_dir))).percent / 100,
        )

    def _cpu(self) -> float:
        """Busy fraction between the previous reading and now, refreshed at most once a window."""
        now = time.monotonic()
        if now - self._cpu_at < CPU_WINDOW:
            return self._cpu_usage
        times = psutil.cpu_times()
        total = sum(times) - sum(self._cpu_times)
        idle = (times.idle + getattr(times, "iowait", 0.0)) - (
            self._cpu_times.idle + getattr(self._cpu_times, "iowait", 0.0)
        )
        if total > 0:
            self._cpu_usage = min(1.0, max(0.0, 1 - idle / total))
        self._cpu_times, self._cpu_at = times, now
        return self._cpu_usage


class FixedProbe(SystemProbe):
    """Returns whatever its attributes say; tests change them between checks."""

    def __init__(
        self,
        *,
        memory_available: int = 8 * 1024 * MB,
        process_rss: int = 100 * MB,
        cpu_usage: float = 0.1,
        disk_usage: float = 0.5,
    ) -> None:
        self.memory_available = memory_available
        self.process_rss = process_rss
        self.cpu_usage = cpu_usage
        self.disk_usage = disk_usage

    def snapshot(self) -> SystemSnapshot:
        return SystemSnapshot(self.memory_available, self.process_rss, self.cpu_usage, self.disk_usage)


def _existing(path: Path) -> Path:
    """The nearest existing ancestor, so a state dir not created yet still names its volume."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")

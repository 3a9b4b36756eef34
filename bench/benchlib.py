"""Helpers the benchmark scripts share: a free port, percentiles, a process tree's CPU and memory.

The scripts run as files (``python bench/<area>/bench_<x>.py``) and put this directory on
``sys.path`` to import it.
"""

from __future__ import annotations

import socket

import psutil


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    """Linearly interpolated percentile, ``pct`` in 0-100."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children."""
    proc = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [proc, *proc.children(recursive=True)])


def tree_memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MB) of ``pid`` and its children, and how many processes that is."""
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    rss = sum(p.memory_info().rss for p in procs)
    pss = sum(getattr(p.memory_full_info(), "pss", 0) for p in procs)
    return {"rss_mb": round(rss / 2**20, 1), "pss_mb": round(pss / 2**20, 1), "procs": len(procs)}

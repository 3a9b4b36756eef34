"""``debug profile-memory``: the Python counterpart of the seed's V8 heap statistics.

Process memory from psutil (RSS, VMS, USS when readable), the collector's state from ``gc``
(generation counts, thresholds, per-generation stats, tracked objects) and the top allocation
sites from a ``tracemalloc`` snapshot. When tracemalloc was not already tracing (start the
gateway with ``PYTHONTRACEMALLOC=25`` to see its allocations), it traces only the work done
inside :func:`profile_memory`'s ``workload``.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import psutil


def _top_types(limit: int) -> list[dict[str, Any]]:
    counts = Counter(type(o).__name__ for o in gc.get_objects())
    return [{"type": name, "count": n} for name, n in counts.most_common(limit)]


def profile_memory(top: int = 15, workload: Callable[[], object] | None = None) -> dict[str, Any]:
    """A JSON-ready memory profile of this process."""
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start(10)
    try:
        if workload is not None:
            workload()
        snapshot = tracemalloc.take_snapshot().filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>"))
        )
        current, peak = tracemalloc.get_traced_memory()
    finally:
        if started_here:
            tracemalloc.stop()
    stats = snapshot.statistics("lineno")[:top]
    proc = psutil.Process()
    mem = proc.memory_info()
    process: dict[str, Any] = {"pid": proc.pid, "rss": mem.rss, "vms": mem.vms}
    try:
        process["uss"] = proc.memory_full_info().uss
    except (psutil.AccessDenied, AttributeError):
        process["uss"] = None
    return {
        "process": process,
        "gc": {
            "enabled": gc.isenabled(),
            "counts": list(gc.get_count()),
            "thresholds": list(gc.get_threshold()),
            "generations": gc.get_stats(),
            "trackedObjects": len(gc.get_objects()),
            "garbage": len(gc.garbage),
            "topTypes": _top_types(top),
        },
        "tracemalloc": {
            "tracingBeforeProfile": not started_here,
            "tracedCurrent": current,
            "tracedPeak": peak,
            "top": [
                {
                    "file": stat.traceback[0].filename,
                    "line": stat.traceback[0].lineno,
                    "size": stat.size,
                    "count": stat.count,
                }
                for stat in stats
            ],
        },
    }


def render_profile(profile: dict[str, Any]) -> str:
    p, g, t = profile["process"], profile["gc"], profile["tracemalloc"]
    lines = [
        f"process {p['pid']}: rss {p['rss'] / 1024**2:.1f} MB, vms {p['vms'] / 1024**2:.1f} MB"
        + (f", uss {p['uss'] / 1024**2:.1f} MB" if p.get("uss") else ""),
        f"gc: counts {g['counts']} thresholds {g['thresholds']}, {g['trackedObjects']} tracked objects, "
        f"{g['garbage']} uncollectable",
        "  " + ", ".join(f"{s['type']}={s['count']}" for s in g["topTypes"][:8]),
        f"tracemalloc: {t['tracedCurrent'] / 1024:.0f} KiB traced (peak {t['tracedPeak'] / 1024:.0f} KiB)"
        + ("" if t["tracingBeforeProfile"] else " since the profile started"),
    ]
    lines += [f"  {s['size'] / 1024:8.1f} KiB {s['count']:6d}x {s['file']}:{s['line']}" for s in t["top"]]
    return "\n".join(lines)

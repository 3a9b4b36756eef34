"""Transcript append cost at 10, 500 and 5000 entries (writes bench/results/sessions.md).

Measures, per session length:
- ``Session.append`` from trio (worker thread, flock, one O_APPEND write, fsync): what the
  agent loop pays per stored entry;
- a whole-file rewrite of the same transcript (how nanobot saves a session), without fsync, as
  the baseline our append must not degrade towards;
- loading the session from disk (once per cache miss).

Run: ``.venv/bin/python bench/sessions/bench_append.py [--appends 200]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import trio

from moltbot.sessions import Session, SessionStore
from moltbot.sessions import entries as E
from moltbot.sessions.transcript import encode

SIZES = (10, 500, 5000)
TEXT = "The quick brown fox jumps over the lazy dog. " * 8  # ~360 characters, a typical turn


def entry(n: int) -> E.Entry:
    return E.message("user" if n % 2 else "assistant", f"{n} {TEXT}")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rewrite_whole_file(path: Path, header: E.Entry, entries: list[E.Entry]) -> None:
    """The baseline: serialize every entry again and replace the file (no fsync)."""
    data = encode(header) + b"".join(encode(e) for e in entries)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


async def grow(store: SessionStore, size: int) -> Session:
    session = await store.session(f"agent:main:bench:dm:{size}")
    for start in range(0, size, 500):  # several entries per write to build it quickly
        await session.append(*(entry(n) for n in range(start, min(size, start + 500))))
    return session


async def measure(appends: int, root: Path) -> list[dict[str, float]]:
    """Appends round-robin across the three sessions, so disk noise hits every size alike;
    then the rewrite baseline, round-robin too."""
    store = SessionStore(root / "sessions", cache_size=len(SIZES))
    await store.open()
    sessions = [await grow(store, size) for size in SIZES]
    snapshots = [list(s.entries) for s in sessions]
    append_ms: list[list[float]] = [[] for _ in SIZES]
    rewrite_ms: list[list[float]] = [[] for _ in SIZES]
    os.sync()  # start from a clean page cache: no earlier writes queued behind our fsyncs
    for n in range(appends):
        for i, session in enumerate(sessions):
            began = time.perf_counter()
            await session.append(entry(SIZES[i] + n))
            append_ms[i].append((time.perf_counter() - began) * 1000)
    # the baseline runs afterwards: its unsynced megabytes would otherwise slow our fsyncs
    for _ in range(appends):
        for i, session in enumerate(sessions):
            began = time.perf_counter()
            rewrite_whole_file(root / f"rewrite-{i}.jsonl", session.header, snapshots[i])
            rewrite_ms[i].append((time.perf_counter() - began) * 1000)
    rows = []
    for i, session in enumerate(sessions):
        began = time.perf_counter()
        loaded = Session.load(session.path)
        load_ms = (time.perf_counter() - began) * 1000
        assert len(loaded.entries) == SIZES[i] + appends
        rows.append(
            {
                "entries": SIZES[i],
                "bytes": session.size,
                "append_p50": statistics.median(append_ms[i]),
                "append_p90": percentile(append_ms[i], 0.9),
                "append_p99": percentile(append_ms[i], 0.99),
                "rewrite_p50": statistics.median(rewrite_ms[i]),
                "load": load_ms,
            }
        )
    return rows


def report(rows: list[dict[str, float]], appends: int, directory: Path) -> str:
    lines = [
        "# Sessions: transcript append cost",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({os.cpu_count()} CPUs), Python {platform.python_version()}, filesystem of `{directory}`; "
        f"{appends} appends per size (interleaved across sizes), entries of ~{len(encode(entry(0)))} bytes; "
        "the rewrite baseline always rewrites exactly the starting number of entries. "
        "Command: `.venv/bin/python bench/sessions/bench_append.py`.",
        "",
        "| entries | file size after | append p50 (trio, fsync) | p90 | p99 | "
        "whole-file rewrite p50 (no fsync) | load after |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['entries']:.0f} → {r['entries'] + appends:.0f} | {r['bytes'] / 1024:.0f} KB | "
            f"{r['append_p50']:.3f} ms | {r['append_p90']:.3f} ms | {r['append_p99']:.3f} ms | "
            f"{r['rewrite_p50']:.3f} ms | {r['load']:.1f} ms |"
        )
    lines += [
        "",
        "Append = one `O_APPEND` write of the encoded line(s) plus `fsync`, under the transcript's",
        "`flock`, from a worker thread; nothing is read or rewritten, so its cost is flat in the",
        "session's length (fsync dominates and depends on the disk). The rewrite column is the",
        "nanobot-style save (serialize all entries, replace the file) *without* fsync, so it",
        "understates that approach's durable cost; it grows linearly with the session.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "results" / "sessions.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        rows = trio.run(measure, args.appends, Path(tmp))
        text = report(rows, args.appends, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

"""Cache throughput and hit-path latency: memory level, disk backend, Redis backend.

Run from the repository root: ``.venv/bin/python bench/cache/bench_cache.py`` (starts its own
``redis-server`` on a free loopback port when the binary exists, or use ``--redis-url``).
Writes ``bench/results/cache.md``. Single task, sequential operations, a ~256-byte JSON value.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import trio

from moltbot.cache import Cache, opened
from moltbot.cache.codec import cache_key, dumps, wrap
from moltbot.cache.disk import DiskBackend, DiskCacheConfig
from moltbot.config.model import CacheConfig
from moltbot.interfaces.cache import CacheBackend
from moltbot.testing import build_context

VALUE = {"session": "agent:main:telegram:dm:12345", "text": "x" * 160, "turns": [1, 2, 3], "ok": True}
RESULTS = Path(__file__).resolve().parents[1] / "results" / "cache.md"


async def rate(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    """Operations per second over ``n`` sequential calls."""
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    return n / (time.perf_counter() - start)


async def latencies(n: int, op: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    samples = []
    for i in range(n):
        start = time.perf_counter_ns()
        await op(i)
        samples.append((time.perf_counter_ns() - start) / 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


async def bench_backend(backend: CacheBackend, n: int) -> dict[str, float]:
    payload = wrap(dumps(VALUE), None)
    keys = [cache_key("bench", str(i)) for i in range(n)]
    sets = await rate(n, lambda i: backend.set(keys[i], payload, 300))
    gets = await rate(n, lambda i: backend.get(keys[i]))
    return {"set": sets, "get": gets}


async def bench_levels(backend: CacheBackend | None, n: int) -> dict[str, float]:
    """Through :class:`Cache`: set ops/s, memory-hit and backend-hit (promotion) latency."""
    cache = Cache(CacheConfig(memoryMaxEntries=n * 2, memoryMaxBytes=512 * 1024 * 1024), backend)
    result = {"set": await rate(n, lambda i: cache.set("bench", str(i), VALUE))}
    result["get"] = await rate(n, lambda i: cache.get("bench", str(i)))
    result["hit_p50"], result["hit_p99"] = await latencies(n, lambda i: cache.get("bench", str(i)))
    if backend is not None:
        cache.shed()
        result["promote_p50"], result["promote_p99"] = await latencies(
            n, lambda i: cache.get("bench", str(i))
        )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: str) -> tuple[subprocess.Popen | None, str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        return None, None
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            directory,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(500):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.01)
    process.kill()
    return None, None


async def main(n: int, redis_url: str | None) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    await bench_levels(None, n)  # warm-up: imports, allocator, hashing code paths
    results["memory (Cache, no backend)"] = await bench_levels(None, n)
    with tempfile.TemporaryDirectory() as tmp:
        disk = DiskBackend(DiskCacheConfig(), build_context(Path(tmp), "cache"))
        results["disk backend (raw)"] = await bench_backend(disk, n)
        await disk.clear()
        results["memory + disk (Cache)"] = await bench_levels(disk, n)
        await disk.aclose()
    if redis_url:
        from moltbot_cache_redis.backend import RedisBackend, RedisCacheConfig

        redis = RedisBackend(RedisCacheConfig(url=redis_url, key_prefix="bench:"))
        async with opened(redis):
            results["redis backend (raw)"] = await bench_backend(redis, n)
            await redis.clear()
            results["memory + redis (Cache)"] = await bench_levels(redis, n)
            await redis.clear()
    return results


def render(results: dict[str, dict[str, float]], n: int) -> str:
    lines = [
        "# Cache benchmark",
        "",
        f"`bench/cache/bench_cache.py -n {n}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, one trio task, "
        f"sequential operations, value = {len(dumps(VALUE))} bytes of JSON.",
        "",
        "| level | set ops/s | get ops/s | memory hit p50 µs | p99 µs | promotion p50 µs | p99 µs |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(row: dict[str, float], key: str, fmt: str) -> str:
        return format(row[key], fmt) if key in row else "–"

    columns = (("set", ",.0f"), ("get", ",.0f"), ("hit_p50", ".1f"), ("hit_p99", ".1f"))
    columns += (("promote_p50", ".1f"), ("promote_p99", ".1f"))
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(cell(row, key, fmt) for key, fmt in columns) + " |")
    lines += [
        "",
        "Raw rows call the backend directly (bytes in, bytes out). Cache rows go through",
        "`moltbot.cache.Cache`: key hashing, JSON encoding, the memory LRU, then the backend. Cache",
        "`set` writes both levels, so its rate is bounded by the backend's. `get ops/s` on Cache",
        "rows are memory hits; the promotion columns measure a get after `shed()` emptied memory",
        "(backend read, decode, insert into memory). Disk calls each hop to a worker thread.",
        "Redis is a local `redis-server` on loopback, reached through coredis on trio. The machine",
        "was shared with other test runs, so tails (p99) are noisy.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="operations per measurement")
    parser.add_argument("--redis-url", help="use this Redis instead of starting redis-server")
    args = parser.parse_args()
    process = None
    with tempfile.TemporaryDirectory() as redis_dir:
        url = args.redis_url
        if url is None:
            process, url = start_redis(redis_dir)
            if url is None:
                print("redis-server not found: the Redis rows are skipped", file=sys.stderr)
        try:
            results = trio.run(main, args.n, url)
        finally:
            if process is not None:
                process.terminate()
                process.wait()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(render(results, args.n))
    print(RESULTS.read_text())

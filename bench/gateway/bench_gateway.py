#!/usr/bin/env python3
"""Gateway benchmark, the same workloads as ../shared/bench-openclaw (cold start, idle memory,
closed-loop ``health`` RPC on 1 and 20 connections, 200 concurrent authenticated connections),
driven with trio-websocket against a real ``moltbot run`` process.

Usage: .venv/bin/python bench/gateway/bench_gateway.py [--runs 3] [--duration 5] [--idle 5]
Writes bench/results/gateway.json and bench/results/gateway.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

from moltbot.gateway.client import ConnectOptions, connect, connect_frame, open_ws

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import free_port, percentile, tree_cpu, tree_memory

ROOT = Path(__file__).resolve().parents[2]
MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
TOKEN = "bench-token-" + "x" * 40
CONFIG = {
    "gateway": {"auth": {"mode": "token", "token": TOKEN}},
    "performance": {"gateway": {"maxConnections": 500, "rateLimiting": {"enabled": False}}},
}


class Gateway:
    """``moltbot run`` in its own session on a fresh state dir."""

    def __init__(self, state: Path, *extra: str) -> None:
        self.state = state
        self.extra = extra
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        state.mkdir(parents=True, exist_ok=True)
        (state / "moltbot.json").write_text(json.dumps(CONFIG))
        os.chmod(state / "moltbot.json", 0o600)

    def start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLTBOT_", "CLAWDBOT_"))}
        env.update(MOLTBOT_STATE_DIR=str(self.state), HOME=str(self.state.parent))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure an installed gateway, whose .pyc exist
        return subprocess.Popen(
            [MOLTBOT, *self.extra, "run", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_http(port: int, t0: float, timeout: float = 30) -> float:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while time.perf_counter() - t0 < timeout:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(request)
                if b" 200 " in sock.recv(4096):
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(0.005)
    raise TimeoutError("gateway never became HTTP-ready")


async def hello_and_first_rpc(url: str, t0: float) -> tuple[float, float]:
    async with connect(url, ConnectOptions(token=TOKEN)) as client:
        hello = time.perf_counter() - t0
        await client.call("health")
        return hello, time.perf_counter() - t0


def stop(proc: subprocess.Popen[bytes]) -> float:
    t = time.perf_counter()
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return time.perf_counter() - t


def cold_start(runs: int, idle: float, base: Path, *extra: str) -> dict[str, Any]:
    warmup = Gateway(base / "warmup", *extra)
    proc = warmup.start()  # writes the bytecode caches, as installing the package would
    wait_http(warmup.port, time.perf_counter())
    stop(proc)
    results = []
    for i in range(runs):
        gw = Gateway(base / f"cold{i}", *extra)
        t0 = time.perf_counter()
        proc = gw.start()
        try:
            http = wait_http(gw.port, t0)
            hello, first = trio.run(hello_and_first_rpc, gw.url, t0)
            row = {"http_ready_s": http, "hello_ok_s": hello, "first_rpc_s": first}
            time.sleep(idle)
            row.update({f"idle_{k}": v for k, v in tree_memory(proc.pid).items()})
        finally:
            row["stop_s"] = stop(proc)
        results.append(row)
        print("cold start", *extra, json.dumps({k: round(v, 3) for k, v in row.items()}), flush=True)
    return {
        key: round(statistics.median(r[key] for r in results), 3)
        for key in ("http_ready_s", "hello_ok_s", "first_rpc_s", "idle_rss_mb", "idle_pss_mb", "stop_s")
    } | {"runs": results}


async def rpc_case(url: str, conns: int, duration: float, pid: int) -> dict[str, Any]:
    latencies: list[float] = []
    sockets = []
    async with trio.open_nursery() as nursery:

        async def one(ready: trio.Event, go: trio.Event) -> None:
            async with open_ws(url) as ws:
                await ws.get_message()
                await ws.send_message(json.dumps(connect_frame(None, ConnectOptions(token=TOKEN))))
                await ws.get_message()
                sockets.append(ws)
                ready.set()
                await go.wait()
                stop_at = time.perf_counter() + duration
                n = 0
                while time.perf_counter() < stop_at:
                    n += 1
                    t = time.perf_counter()
                    await ws.send_message(f'{{"type":"req","id":"{n}","method":"health","params":{{}}}}')
                    while '"type":"res"' not in (await ws.get_message()):
                        pass  # a tick event
                    latencies.append(time.perf_counter() - t)

        go = trio.Event()
        for _ in range(conns):
            ready = trio.Event()
            nursery.start_soon(one, ready, go)
            await ready.wait()
        cpu0 = tree_cpu(pid)
        t0 = time.perf_counter()
        go.set()
    wall = time.perf_counter() - t0
    return {
        "conns": conns,
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "server_cpu_s": round(tree_cpu(pid) - cpu0, 2),
    }


async def many_connections(url: str, count: int, pid: int) -> dict[str, Any]:
    before = tree_memory(pid)["rss_mb"]
    opened = trio.Semaphore(0)
    t0 = time.perf_counter()
    probes: list[float] = []
    async with trio.open_nursery() as nursery:
        release = trio.Event()

        async def hold() -> None:
            async with connect(url, ConnectOptions(token=TOKEN)) as client:
                opened.release()
                await release.wait()
                t = time.perf_counter()
                await client.call("health")
                probes.append(time.perf_counter() - t)

        for _ in range(count):
            nursery.start_soon(hold)
        for _ in range(count):
            await opened.acquire()
        connect_all = time.perf_counter() - t0
        after = tree_memory(pid)["rss_mb"]
        release.set()
    return {
        "connections": count,
        "connect_all_s": round(connect_all, 3),
        "rss_before_mb": before,
        "rss_with_all_mb": after,
        "rss_per_conn_kb": round((after - before) * 1024 / count, 1),
        "probe_p50_ms": round(percentile(probes, 50) * 1000, 2),
        "probe_max_ms": round(max(probes) * 1000, 2),
    }


def load_phase(duration: float, base: Path) -> dict[str, Any]:
    gw = Gateway(base / "load")
    proc = gw.start()
    try:
        wait_http(gw.port, time.perf_counter())
        out: dict[str, Any] = {"rpc": []}
        for conns in (1, 20):
            case = trio.run(rpc_case, gw.url, conns, duration, proc.pid)
            print("rpc", json.dumps(case), flush=True)
            out["rpc"].append(case)
        out["connections"] = trio.run(many_connections, gw.url, 200, proc.pid)
        print("connections", json.dumps(out["connections"]), flush=True)
        out["rss_after_load_mb"] = tree_memory(proc.pid)["rss_mb"]
    finally:
        stop(proc)
    return out


def write_results(data: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "gateway.json").write_text(json.dumps(data, indent=1) + "\n")
    cold, core, load = data["cold_start"], data["cold_start_core_only"], data["load"]
    one, twenty = load["rpc"]
    conns = load["connections"]
    rows = [
        ("HTTP-ready after process start", f"{cold['http_ready_s']:.3f} s", "< 0.6 s", "9.0 s"),
        ("hello-ok after process start", f"{cold['hello_ok_s']:.3f} s", "", "13.1 s"),
        ("first health RPC", f"{cold['first_rpc_s']:.3f} s", "", ""),
        ("idle RSS (PSS)", f"{cold['idle_rss_mb']} MB ({cold['idle_pss_mb']} MB)", "< 80 MB", "946 MB"),
        (
            "health, 1 connection",
            f"{one['rps']:,.0f} req/s, p50 {one['p50_ms']} ms, p99 {one['p99_ms']} ms",
            ">= 2,000 req/s",
            "946 req/s",
        ),
        (
            "health, 20 connections",
            f"{twenty['rps']:,.0f} req/s, p50 {twenty['p50_ms']} ms, p99 {twenty['p99_ms']} ms",
            ">= 3,000 req/s, p99 <= 20 ms",
            "1,527 req/s (p99 45 ms)",
        ),
        (
            "200 authenticated connections",
            f"all open in {conns['connect_all_s']} s, "
            f"+{conns['rss_per_conn_kb']} KB RSS each, probe p50 {conns['probe_p50_ms']} ms",
            "",
            "",
        ),
        ("stop (SIGTERM to exit)", f"{cold['stop_s']:.3f} s", "", ""),
        (
            "HTTP-ready / idle RSS, `--no-plugins`",
            f"{core['http_ready_s']:.3f} s / {core['idle_rss_mb']} MB",
            "",
            "",
        ),
    ]
    lines = [
        "# Gateway benchmark",
        "",
        f"{data['when']} on {data['machine']}; `bench/gateway/bench_gateway.py` (medians of"
        f" {len(cold['runs'])} cold starts after one warm-up start that writes the .pyc files;"
        f" {data['duration']} s closed loops; the client runs on the same cores)."
        " OpenClaw column: ../shared/bench-openclaw/OPENCLAW-RESULTS.md.",
        "",
        "| measure | moltbot | target | OpenClaw 2026.9.6 |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        "Every installed plugin distribution loads in the main rows; `--no-plugins` loads only"
        " moltbot-core's built-ins (the difference is plugins' import cost at registration).",
        "",
        "Config: token auth, `performance.gateway.rateLimiting.enabled: false` (the default 1200/min"
        " per connection would cap a closed loop), every built-in service running as in `moltbot run`.",
        "",
    ]
    (out / "gateway.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moltbot-bench-") as tmp:
        base = Path(tmp)
        data = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "duration": args.duration,
            "cold_start": cold_start(args.runs, args.idle, base),
            "cold_start_core_only": cold_start(args.runs, args.idle, base, "--no-plugins"),
            "load": load_phase(args.duration, base),
        }
    write_results(data, args.out)
    print((args.out / "gateway.md").read_text())


if __name__ == "__main__":
    main()

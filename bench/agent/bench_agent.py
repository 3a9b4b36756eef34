#!/usr/bin/env python3
"""Agent turn benchmark, the workload of ../shared/bench-openclaw section 5: a real ``moltbot run``
process whose model is an instant fake OpenAI server (in this process, echoing), driven over the
WebSocket protocol with ``chat.send`` until the run's final ``chat`` event.

Measures gateway overhead per turn (p50/p99, turns/s) sequentially in one session and
concurrently across 10 sessions (one connection each), the gateway's CPU per turn, and the
request body the model receives for a trivial "hi" turn with the default tools.

Usage: .venv/bin/python bench/agent/bench_agent.py [--turns 200] [--sessions 10] [--per-session 20]
[--repeat 3]. With ``--repeat N`` each figure is the median of N runs (a fresh gateway each).
Writes bench/results/agent.json and bench/results/agent.md, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import trio
from starlette.requests import Request

from moltbot.gateway.client import ConnectOptions, GatewayClient, connect
from moltbot.testing.fake_openai import FakeOpenAI, RecordedRequest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import free_port, percentile, tree_cpu

ROOT = Path(__file__).resolve().parents[2]
MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
TOKEN = "bench-token-" + "x" * 40
OPENCLAW = {
    "seq_p50": 284.1,
    "seq_tps": 3.28,
    "seq_cpu": 363.1,
    "conc_tps": 3.62,
    "conc_p50": 2719,
    "bytes": 63630,
}


class SizedFake(FakeOpenAI):
    """The fake OpenAI server, also keeping each request's raw body size."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    async def record(self, request: Request) -> Any:
        raw = await request.body()
        self.sizes.append(len(raw))
        body = json.loads(raw)
        self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body))
        if len(self.requests) > 50:
            del self.requests[:-50]
        return body


def start_gateway(state: Path, port: int, fake_url: str, max_runs: int | None) -> subprocess.Popen[bytes]:
    agents = {"maxConcurrentRuns": max_runs} if max_runs else {}
    config = {
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "performance": {"gateway": {"rateLimiting": {"enabled": False}}, "agents": agents},
        "agent": {"model": "openai/fake-model", "workspace": str(state / "workspace")},
        "models": {"providers": {"openai": {"baseUrl": fake_url, "apiKey": "sk-bench"}}},
    }
    state.mkdir(parents=True, exist_ok=True)
    (state / "moltbot.json").write_text(json.dumps(config))
    os.chmod(state / "moltbot.json", 0o600)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MOLTBOT_", "CLAWDBOT_", "OPENAI_", "ANTHROPIC_"))
    }
    env.update(MOLTBOT_STATE_DIR=str(state), HOME=str(state.parent))
    with open(state / "gateway.log", "wb") as log:
        return subprocess.Popen(
            [MOLTBOT, "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )


async def wait_ready(url: str, timeout: float = 30) -> None:
    with trio.fail_after(timeout):
        while True:
            try:
                async with connect(url, ConnectOptions(token=TOKEN)) as client:
                    await client.call("health")
                    return
            except Exception:
                await trio.sleep(0.05)


async def turn(client: GatewayClient, session: str, text: str) -> float:
    """One ``chat.send`` until its final ``chat`` event; returns milliseconds."""
    started = time.perf_counter()
    params = {"sessionKey": session, "message": text, "idempotencyKey": str(uuid.uuid4())}
    run_id = (await client.call("chat.send", params))["runId"]
    with trio.fail_after(30):
        return await _final(client, run_id, started)


async def _final(client: GatewayClient, run_id: str, started: float) -> float:
    while True:
        for frame in client.events:
            payload = frame.get("payload") or {}
            if (
                frame.get("event") == "chat"
                and payload.get("runId") == run_id
                and payload.get("state") != "delta"
            ):
                elapsed = (time.perf_counter() - started) * 1000
                client.events.clear()
                if payload["state"] != "final":
                    raise RuntimeError(f"run {run_id} ended with {payload}")
                return elapsed
        if client.closed is not None:
            raise client.closed
        await client.event_arrived.wait()


async def sequential(url: str, turns: int) -> list[float]:
    async with connect(url, ConnectOptions(token=TOKEN)) as client:
        return [await turn(client, "bench-seq", f"hi {i}") for i in range(turns)]


async def concurrent(url: str, sessions: int, per_session: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def one(index: int) -> None:
        async with connect(url, ConnectOptions(token=TOKEN)) as client:
            await turn(client, f"bench-conc-{index}", "warm up")
            await start.wait()
            for i in range(per_session):
                latencies.append(await turn(client, f"bench-conc-{index}", f"hi {i}"))

    start = trio.Event()
    async with trio.open_nursery() as nursery:
        for index in range(sessions):
            nursery.start_soon(one, index)
        await trio.sleep(1.0)
        t0 = time.perf_counter()
        start.set()
    return latencies, time.perf_counter() - t0


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    fake = SizedFake()
    async with trio.open_nursery() as nursery:
        await nursery.start(fake.run)
        with tempfile.TemporaryDirectory(prefix="moltbot-bench-agent-") as tmp:
            port = free_port()
            proc = start_gateway(Path(tmp) / "state", port, fake.base_url, args.max_runs)
            url = f"ws://127.0.0.1:{port}"
            try:
                await wait_ready(url)
                async with connect(url, ConnectOptions(token=TOKEN)) as client:
                    first_ms = await turn(client, "main", "hi")
                hi_body = fake.requests[-1].body
                hi_bytes = fake.sizes[-1]
                await sequential(url, 5)  # warm-up of the sequential session
                cpu0 = tree_cpu(proc.pid)
                t0 = time.perf_counter()
                seq = await sequential(url, args.turns)
                seq_wall = time.perf_counter() - t0
                seq_cpu = (tree_cpu(proc.pid) - cpu0) * 1000 / args.turns
                seq_sizes = fake.sizes[-args.turns :]
                cpu1, own1 = tree_cpu(proc.pid), sum(psutil.Process().cpu_times()[:2])
                conc, conc_wall = await concurrent(url, args.sessions, args.per_session)
                conc_cpu = (tree_cpu(proc.pid) - cpu1) * 1000 / len(conc)
                bench_cpu = (sum(psutil.Process().cpu_times()[:2]) - own1) * 1000 / len(conc)
            except BaseException:
                log = (Path(tmp) / "state" / "gateway.log").read_text(errors="replace")
                print("gateway log (tail):\n" + log[-3000:], file=sys.stderr)
                raise
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        nursery.cancel_scope.cancel()
    system = hi_body["messages"][0]["content"] if hi_body["messages"][0]["role"] == "system" else ""
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()} ({os.cpu_count()} CPUs), Python {platform.python_version()}",
        "first_turn_ms": round(first_ms, 1),
        "hi_request_bytes": hi_bytes,
        "hi_system_chars": len(system),
        "hi_tools": [t["function"]["name"] for t in hi_body.get("tools", [])],
        "hi_tools_bytes": len(json.dumps(hi_body.get("tools", []))),
        "seq": {
            "turns": args.turns,
            "p50_ms": round(statistics.median(seq), 2),
            "p99_ms": round(percentile(seq, 99), 2),
            "turns_per_s": round(args.turns / seq_wall, 1),
            "cpu_ms_per_turn": round(seq_cpu, 2),
            "request_bytes_median": int(statistics.median(seq_sizes)),
        },
        "conc": {
            "sessions": args.sessions,
            "turns": len(conc),
            "p50_ms": round(statistics.median(conc), 2),
            "p99_ms": round(percentile(conc, 99), 2),
            "turns_per_s": round(len(conc) / conc_wall, 1),
            "cpu_ms_per_turn": round(conc_cpu, 2),
            "bench_cpu_ms_per_turn": round(bench_cpu, 2),
        },
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``runs[0]`` with every number replaced by its median over ``runs``."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, dict):
            out[key] = median_of([r[key] for r in runs])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            middle = statistics.median(r[key] for r in runs)
            out[key] = type(value)(round(middle, 2)) if isinstance(value, float) else int(middle)
        else:
            out[key] = value
    return out


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def render(r: dict[str, Any], command: str) -> str:
    seq, conc = r["seq"], r["conc"]
    kb = r["hi_request_bytes"] / 1024
    rows = [
        ("seq (1 session): p50 ms per turn", seq["p50_ms"], "≤ 20", OPENCLAW["seq_p50"]),
        ("seq: p99 ms", seq["p99_ms"], "", "~560"),
        ("seq: turns/s", seq["turns_per_s"], "≥ 50", OPENCLAW["seq_tps"]),
        ("seq: gateway CPU ms per turn", seq["cpu_ms_per_turn"], "", OPENCLAW["seq_cpu"]),
        (
            f"{conc['sessions']} sessions concurrent: turns/s",
            conc["turns_per_s"],
            "≥ 100",
            OPENCLAW["conc_tps"],
        ),
        ("concurrent: p50 ms", conc["p50_ms"], "", OPENCLAW["conc_p50"]),
        ("concurrent: p99 ms", conc["p99_ms"], "", "~3500"),
        ("concurrent: gateway CPU ms per turn", conc["cpu_ms_per_turn"], "", 299.8),
        ("concurrent: benchmark-process CPU ms per turn", conc["bench_cpu_ms_per_turn"], "", "–"),
        (
            'request body for "hi" (bytes)',
            f"{r['hi_request_bytes']} ({kb:.1f} KB)",
            "≤ 8 KB",
            OPENCLAW["bytes"],
        ),
        ("request body median over the seq turns", seq["request_bytes_median"], "", OPENCLAW["bytes"]),
        ("first turn of a new session, ms", r["first_turn_ms"], "", 1433),
    ]
    table = "\n".join(f"| {name} | {ours} | {target} | {theirs} |" for name, ours, target, theirs in rows)
    return f"""# Agent: gateway overhead per turn

Run {r["when"]} on {r["machine"]}. Command: `{command}`.
Load average (1/5/15 min) before: {r["load_before"]}, after: {r["load_after"]}.
{r["repeat"]} run(s), each figure the median over them; concurrent turns/s of each run:
{", ".join(map(str, r["conc_tps_runs"]))}.

A real `moltbot run` process (every built-in service running) with `agent.model` pointing at
the fake OpenAI server (`moltbot.testing.fake_openai`, instant echo replies, streamed) in the
benchmark process; turns are `chat.send` over the WebSocket protocol until the run's final
`chat` event, as in OpenClaw's bench (`../shared/bench-openclaw`, section 5, median of 3 runs).
Sequential: {seq["turns"]} turns in one session after 5 warm-up turns (the session grows the whole
time). Concurrent: {conc["sessions"]} sessions, one connection each,
{conc["turns"] // conc["sessions"]} turns each, all at once.
CPU is the gateway process's user+system time per turn.

| measure | moltbot | target | OpenClaw 2026.9.6 |
| --- | ---: | ---: | ---: |
{table}

The "hi" request: system prompt {r["hi_system_chars"]} characters (the five workspace files as
seeded, tool names, date/time) plus {len(r["hi_tools"])} tool schemas ({r["hi_tools_bytes"]} bytes:
{", ".join(r["hi_tools"])}).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--per-session", type=int, default=20)
    parser.add_argument(
        "--max-runs",
        type=int,
        default=None,
        help="performance.agents.maxConcurrentRuns (default: the config default)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs; each figure is their median")
    args = parser.parse_args()
    before = load_average()
    runs = [trio.run(main_async, args) for _ in range(max(1, args.repeat))]
    result = median_of(runs)
    result.update(
        repeat=len(runs),
        conc_tps_runs=[r["conc"]["turns_per_s"] for r in runs],
        load_before=before,
        load_after=load_average(),
    )
    command = "python bench/agent/bench_agent.py " + " ".join(sys.argv[1:])
    out = ROOT / "bench" / "results"
    (out / "agent.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "agent.md").write_text(render(result, command.strip()))
    print(render(result, command.strip()))


if __name__ == "__main__":
    main()

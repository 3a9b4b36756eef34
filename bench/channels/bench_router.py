"""What routing an inbound channel message costs, and how much of it is durability
(writes bench/results/channels.md).

A message goes through the real channels service (dedupe log append + fsync, access policy,
the inbound journal's atomic write before the agent gets it and its unlink after the run) to an
echo agent that replies at once, and the reply goes back through chunking and the outbound
dedupe record. Measured end to end, from ``deliver`` on an in-memory channel to the reply in
its outbox: sequential latency (p50/p95) and throughput with 20 messages in flight.

Run: ``.venv/bin/python bench/channels/bench_router.py [--messages 300]``.
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
from typing import Any

import trio

import moltbot
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.testing import MemoryChatChannel, make_plugins

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchlib import percentile


@moltbot.hookimpl
def moltbot_register_channels() -> Any:
    yield moltbot.ChannelSpec(name="memory", factory=MemoryChatChannel, config=moltbot.ChannelConfig)


def build_app(state: Path) -> App:
    env = {"MOLTBOT_STATE_DIR": str(state)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"channels": {"memory": {"dmPolicy": "open", "allowFrom": ["*"]}}})
    plugins = make_plugins(moltbot_register_channels)
    return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)


async def measure(state: Path, messages: int) -> dict[str, float]:
    app = build_app(state)
    agent = EchoAgent(app)
    service = ChannelsService(app)
    app.services.update(agent=agent, channels=service)
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(service.run)
        memory: MemoryChatChannel = service.channels["memory"].channel  # type: ignore[assignment]

        async def replies(n: int) -> None:
            while len(memory.sent) < n:
                await trio.sleep(0.0005)

        latencies = []
        for i in range(messages):
            started = time.perf_counter()
            await memory.deliver(f"message {i}", sender=f"user-{i % 7}", message_id=f"seq-{i}")
            await replies(i + 1)
            latencies.append((time.perf_counter() - started) * 1000)
        base = len(memory.sent)
        started = time.perf_counter()
        for i in range(messages):
            await memory.deliver(f"burst {i}", sender=f"user-{i % 20}", message_id=f"burst-{i}")
        await replies(base + messages)
        burst = time.perf_counter() - started
        while service.journal.pending():
            await trio.sleep(0.001)
        nursery.cancel_scope.cancel()
    return {
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 95),
        "throughput": messages / burst,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moltbot-bench-") as tmp:
        result = trio.run(measure, Path(tmp) / "state", args.messages)
    lines = [
        "# Channel routing",
        "",
        f"`{' '.join(['bench/channels/bench_router.py', *sys.argv[1:]])}` on {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "One message in, through dedupe (fsync), access policy, the inbound journal (atomic write",
        "before the agent, unlink after the run), an echo agent, chunking and the outbound dedupe",
        "record, to the reply in the channel's outbox.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| sequential, p50 | {result['p50']:.2f} ms |",
        f"| sequential, p95 | {result['p95']:.2f} ms |",
        f"| {args.messages} messages delivered at once | {result['throughput']:.0f} messages/s |",
        "",
    ]
    out = Path(__file__).resolve().parents[1] / "results" / "channels.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

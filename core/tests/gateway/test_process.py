"""The real ``moltbot`` process: first start, refusals (exit 78), busy port, graceful SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psutil
import pytest
import trio

from moltbot.config import read_raw, write_config
from moltbot.gateway.client import ConnectOptions, GatewayClosed, connect

from .conftest import TOKEN, base_config

MOLTBOT = [str(Path(sys.executable).with_name("moltbot"))]
_URL = re.compile(r"listening on (ws://\S+)")


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLTBOT_", "CLAWDBOT_"))}
    env.update(MOLTBOT_STATE_DIR=str(state), HOME=str(state.parent))
    return env


class Proc:
    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.out = b""
        self.url = ""

    async def read_until(self, pattern: re.Pattern[str]) -> re.Match[str]:
        assert self.process.stdout is not None
        with trio.fail_after(20):
            while not (match := pattern.search(self.out.decode())):
                chunk = await self.process.stdout.receive_some(4096)
                if not chunk:
                    raise AssertionError(f"process ended before {pattern.pattern!r}: {self.out.decode()}")
                self.out += chunk
        return match

    async def read_until_end(self) -> str:
        """Everything the process printed, once it has closed its output."""
        assert self.process.stdout is not None
        with trio.fail_after(20):
            while chunk := await self.process.stdout.receive_some(4096):
                self.out += chunk
        return self.out.decode()


@asynccontextmanager
async def gateway_process(state: Path, *args: str, env: dict[str, str] | None = None) -> AsyncIterator[Proc]:
    process = await trio.lowlevel.open_process(
        [*MOLTBOT, "run", "--port", "0", *args],
        env=env or _env(state),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    proc = Proc(process)
    try:
        proc.url = (await proc.read_until(_URL))[1]
        await proc.read_until(re.compile(r"Control UI: http://\S+/\n"))
        yield proc
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _run(
    state: Path, *args: str, timeout: float = 20, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MOLTBOT, *args],
        env=env or _env(state),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


async def test_first_start_generates_a_token_and_stops_gracefully(tmp_path):
    state = tmp_path / "state"
    async with gateway_process(state) as proc:
        assert "generated a gateway token" in proc.out.decode()
        assert "Control UI: http://127.0.0.1:" in proc.out.decode()
        config = state / "moltbot.json"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        token = read_raw(config)["gateway"]["auth"]["token"]
        assert len(token) >= 43
        listening = [c for c in psutil.Process(proc.process.pid).net_connections() if c.status == "LISTEN"]
        assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
        opts = ConnectOptions(token=token)
        async with connect(proc.url, opts) as one, connect(proc.url, opts) as two:
            assert (await one.call("health"))["ok"]
            proc.process.send_signal(signal.SIGTERM)
            for client in (one, two):
                with trio.fail_after(10):
                    shutdown = await client.wait_event("shutdown")
                assert shutdown["payload"]["reason"]
                with trio.fail_after(10), pytest.raises(GatewayClosed) as closed:
                    await client.wait_event("never")
                assert closed.value.code == 1001
        with trio.fail_after(15):
            assert await proc.process.wait() == 0


async def test_cli_clients_talk_to_the_running_gateway(tmp_path):
    state = tmp_path / "state"
    write_config(state / "moltbot.json", base_config())
    async with gateway_process(state) as proc:
        url = ["--url", proc.url]
        health = await trio.to_thread.run_sync(lambda: _run(state, "health", "--json", *url))
        assert health.returncode == 0, health.stderr
        assert json.loads(health.stdout)["ok"] is True
        status = await trio.to_thread.run_sync(lambda: _run(state, "status", *url))
        assert status.returncode == 0 and "serving" in status.stdout
        called = await trio.to_thread.run_sync(
            lambda: _run(state, "gateway", "call", "system-presence", *url)
        )
        assert json.loads(called.stdout)[0]["mode"] == "gateway"
        logs = await trio.to_thread.run_sync(lambda: _run(state, "logs", "--json", *url))
        assert logs.returncode == 0, logs.stderr
        assert all(json.loads(line) for line in logs.stdout.splitlines())
        wrong = await trio.to_thread.run_sync(lambda: _run(state, "health", *url, "--token", "nope"))
        assert wrong.returncode == 1 and "unauthorized" in wrong.stderr
        assert TOKEN not in wrong.stderr


async def test_second_gateway_on_a_busy_port_exits_and_leaves_the_first(tmp_path):
    state = tmp_path / "state"
    write_config(state / "moltbot.json", base_config())
    async with gateway_process(state) as first:
        port = first.url.rsplit(":", 1)[1]
        second = await trio.to_thread.run_sync(lambda: _run(state, "gateway", "--port", port))
        assert second.returncode == 1
        assert "already listening" in second.stderr
        async with connect(first.url, ConnectOptions(token=TOKEN)) as c:
            assert (await c.call("health"))["ok"]


def test_invalid_config_exits_78_and_starts_nothing(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "moltbot.json").write_text('{"gateway": {"port": "eighteen"}}')
    result = _run(state, "run")
    assert result.returncode == 78
    assert "gateway.port" in result.stderr


def test_lan_bind_without_auth_is_refused(tmp_path):
    state = tmp_path / "state"
    result = _run(state, "gateway", "run", "--bind", "lan", "--auth", "none", "--port", "0")
    assert result.returncode == 78
    assert "refusing to bind the gateway to 0.0.0.0 without auth" in result.stderr

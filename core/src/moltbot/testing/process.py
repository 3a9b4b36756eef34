"""``moltbot`` as a real process in tests: the gateway, and CLI commands, confined to one state
directory. Plugin tests use these to show a user's whole path works (``moltbot run``, pairing
through the CLI, a SIGKILL and a restart)::

    async with gateway_process(state) as gateway:
        print(await moltbot_cli(state, "pairing", "list"))
        gateway.process.send_signal(signal.SIGKILL)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from moltbot.config import write_config

MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
_LISTENING = re.compile(rb"listening on (wss?)://(\S+?):(\d+)")


def write_state(tmp_path: Path, model_url: str, channels: dict[str, Any]) -> Path:
    """``<tmp_path>/state`` with a config that runs ``channels`` against the fake OpenAI model
    at ``model_url`` (key ``sk-test``, model ``fake-model``), token auth and a workspace next
    to it; returns the state directory."""
    state = tmp_path / "state"
    write_config(
        state / "moltbot.json",
        {
            "gateway": {"auth": {"mode": "token", "token": "process-test-token-0123456789"}},
            "agent": {"model": "openai/fake-model", "workspace": str(tmp_path / "ws")},
            "models": {
                "providers": {"openai": {"baseUrl": model_url, "apiKey": "sk-test", "timeout": 60000}}
            },
            "channels": channels,
        },
    )
    return state


def isolated_env(state: Path) -> dict[str, str]:
    """This environment without ``MOLTBOT_*``/``CLAWDBOT_*`` settings, pointed at ``state``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOLTBOT_", "CLAWDBOT_"))}
    env.update(MOLTBOT_STATE_DIR=str(state), HOME=str(state.parent))
    return env


@dataclass
class GatewayProcess:
    process: trio.Process
    output: bytearray = field(default_factory=bytearray)
    """Everything it printed (stdout and stderr), growing while it runs."""
    http_url: str = ""
    """``http://127.0.0.1:<port>`` once it listens."""


@asynccontextmanager
async def gateway_process(state: Path, *, start_timeout: float = 20) -> AsyncIterator[GatewayProcess]:
    """``moltbot run --port 0`` until it listens; on exit SIGTERM (SIGKILL after 10 s) unless
    the test already ended it."""
    process = await trio.lowlevel.open_process(
        [MOLTBOT, "run", "--port", "0"],
        env=isolated_env(state),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    gateway = GatewayProcess(process)
    listening = trio.Event()

    async def drain() -> None:
        assert process.stdout is not None
        while chunk := await process.stdout.receive_some(65536):
            gateway.output.extend(chunk)
            if not listening.is_set() and (match := _LISTENING.search(gateway.output)):
                scheme = "https" if match[1] == b"wss" else "http"
                gateway.http_url = f"{scheme}://{match[2].decode()}:{match[3].decode()}"
                listening.set()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            with trio.fail_after(start_timeout):
                await listening.wait()
            yield gateway
            nursery.cancel_scope.cancel()
    finally:
        with trio.CancelScope(shield=True):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                with trio.move_on_after(10):
                    await process.wait()
            if process.returncode is None:
                process.kill()
            await process.wait()


async def moltbot_cli(state: Path, *args: str) -> str:
    """Run ``moltbot <args>`` against ``state`` and return its standard output."""
    done = await trio.run_process(
        [MOLTBOT, *args], env=isolated_env(state), capture_stdout=True, capture_stderr=True
    )
    return done.stdout.decode()

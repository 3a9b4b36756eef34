"""Transports in the real ``moltbot run`` process, with a fake ``tailscale`` CLI first on PATH.

The fake is the tailscale plugin's own test double (it records every call); these tests only
run where that plugin is installed, as in the dev venv.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.config import write_config

from .conftest import TOKEN, base_config
from .test_process import _env, _run, gateway_process

moltbot_tailscale = pytest.importorskip("moltbot_tailscale")
FAKE = Path(moltbot_tailscale.__file__).parents[2] / "tests" / "fake_tailscale.py"


def fake_env(tmp_path: Path) -> dict[str, str]:
    """Environment for ``moltbot`` with the fake ``tailscale`` installed first on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "tailscale"
    exe.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
    exe.chmod(0o755)
    state = tmp_path / "fake" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"backendState": "Running", "caps": ["https", "funnel"]}))
    env = _env(tmp_path / "state")
    env.update(FAKE_TAILSCALE_STATE=str(state), PATH=f"{bindir}{os.pathsep}{env['PATH']}")
    return env


def fake_state(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "fake" / "state.json").read_text())


def mutations(tmp_path: Path) -> list[list[str]]:
    log = tmp_path / "fake" / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [c for c in calls if c[0] in ("serve", "funnel")]


async def test_serve_exposes_the_bound_port_shows_in_status_and_resets_on_sigterm(tmp_path):
    state = tmp_path / "state"
    write_config(state / "moltbot.json", base_config(tailscale={"mode": "serve"}))
    env = fake_env(tmp_path)
    async with gateway_process(state, env=env) as proc:
        port = proc.url.rsplit(":", 1)[1]
        assert mutations(tmp_path) == [["serve", "--bg", "--yes", "--https=443", f"http://127.0.0.1:{port}"]]
        assert fake_state(tmp_path)["web"] == {"443": f"http://127.0.0.1:{port}"}
        status = await trio.to_thread.run_sync(
            lambda: _run(state, "status", "--json", "--url", proc.url, "--token", TOKEN, env=env)
        )
        assert status.returncode == 0, status.stderr
        transport = json.loads(status.stdout)["services"]["transport.tailscale"]
        assert transport["state"] == "exposed" and transport["url"] == "https://box.tail1234.ts.net/"
        proc.process.send_signal(signal.SIGTERM)
        with trio.fail_after(15):
            assert await proc.process.wait() == 0
    assert mutations(tmp_path)[-1] == ["serve", "--https=443", "off"]
    assert fake_state(tmp_path)["web"] == {}
    assert not (state / "transports" / "tailscale" / "exposure.json").exists()


async def test_mode_off_still_withdraws_what_a_crashed_run_left(tmp_path):
    state = tmp_path / "state"
    write_config(state / "moltbot.json", base_config(tailscale={"mode": "serve"}))
    env = fake_env(tmp_path)
    async with gateway_process(state, env=env) as proc:
        proc.process.kill()  # no chance to reset: the marker and the exposure stay
    assert fake_state(tmp_path)["web"]
    write_config(state / "moltbot.json", base_config())
    async with gateway_process(state, env=env):
        assert fake_state(tmp_path)["web"] == {}
        assert mutations(tmp_path)[-1] == ["serve", "--https=443", "off"]
        assert not (state / "transports" / "tailscale" / "exposure.json").exists()


def test_funnel_without_password_auth_exits_78_with_the_reason(tmp_path):
    state = tmp_path / "state"
    write_config(state / "moltbot.json", base_config(tailscale={"mode": "funnel"}))
    env = fake_env(tmp_path)
    result = _run(state, "run", "--port", "0", env=env)
    assert result.returncode == 78, result.stderr
    assert "gateway.auth.mode" in result.stderr and "needs password auth" in result.stderr
    assert "Traceback" not in result.stderr
    assert mutations(tmp_path) == []

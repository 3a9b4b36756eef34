"""Cross-distribution tests run the installed ``moltbot`` command as a real process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

MOLTBOT = str(Path(sys.executable).with_name("moltbot"))


@pytest.fixture
def run_cli(moltbot_home):
    """Run ``moltbot <args>`` in a subprocess with an isolated state dir."""

    def run(*args, extra_path=None, input=None, timeout=60):
        env = dict(os.environ)
        if extra_path:
            env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
        return subprocess.run(
            [MOLTBOT, *args], capture_output=True, text=True, env=env, input=input, timeout=timeout
        )

    return run


@pytest.fixture
def running_gateway(moltbot_home):
    """A real ``moltbot run --port 0`` process; yields ``(base_url, token)`` once it listens."""
    import json
    import re
    import signal

    env = dict(os.environ)
    proc = subprocess.Popen(
        [MOLTBOT, "run", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        port = None
        for line in proc.stdout:
            match = re.search(r"listening on wss?://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match[1])
                break
        assert port, "gateway did not start"
        token = json.loads((moltbot_home / "moltbot.json").read_text())["gateway"]["auth"]["token"]
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()

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

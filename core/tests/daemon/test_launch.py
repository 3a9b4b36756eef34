"""The launchd wrapper loads gateway.env into the environment and execs the program."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from moltbot.daemon import write_env_file
from moltbot.errors import EX_CONFIG

SHOW_ENV = "import json, os; print(json.dumps({k: os.environ.get(k) for k in ('SECRET', 'KEEP')}))"


def launch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moltbot.daemon.launch", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=30,
    )


def test_loads_secrets_without_overriding_the_environment(tmp_path: Path) -> None:
    env_file = tmp_path / "gateway.env"
    write_env_file(env_file, {"SECRET": "s3 cret", "KEEP": "from-file"})
    result = launch(
        str(env_file), "--", sys.executable, "-c", SHOW_ENV, env={**os.environ, "KEEP": "from-env"}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"SECRET": "s3 cret", "KEEP": "from-env"}


def test_a_malformed_env_file_is_a_config_error(tmp_path: Path) -> None:
    env_file = tmp_path / "gateway.env"
    env_file.write_text("this is not an assignment\n")
    result = launch(str(env_file), "--", "true", env=dict(os.environ))
    assert result.returncode == EX_CONFIG and "expected NAME=value" in result.stderr

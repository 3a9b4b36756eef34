"""The systemd unit and launchd plist render correctly and pass the platform's own checks."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from moltbot.daemon import definition_for
from moltbot.daemon.launchd import LABEL, render_plist
from moltbot.daemon.systemd import UNIT_NAME, render_unit


def unit_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def systemd_verify(unit: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed; the unit text is still checked")
    env = {**os.environ, "SYSTEMD_LOG_LEVEL": "warning"}
    return subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, env=env, check=False
    )


def test_unit_has_restart_policy_env_file_and_absolute_exec(tmp_path: Path, fake_moltbot: Callable) -> None:
    exe = fake_moltbot()
    text = render_unit(definition_for(tmp_path / "state", executable=exe))
    lines = unit_lines(text)
    assert f"ExecStart={exe} gateway run" in lines
    assert "Restart=always" in lines and "RestartPreventExitStatus=78" in lines
    assert f"EnvironmentFile=-{tmp_path / 'state' / 'gateway.env'}" in lines
    assert f"Environment=MOLTBOT_STATE_DIR={tmp_path / 'state'}" in lines
    assert "NoNewPrivileges=yes" in lines and "UMask=0077" in lines
    assert "WantedBy=default.target" in lines and "StartLimitIntervalSec=0" in lines


@pytest.mark.parametrize("dirname", ["bin", "odd dir/with 100% $HOME"])
def test_systemd_analyze_accepts_the_unit(tmp_path: Path, fake_moltbot: Callable, dirname: str) -> None:
    exe = fake_moltbot(dirname)
    state = tmp_path / dirname / "state"
    state.mkdir(parents=True)
    unit = tmp_path / UNIT_NAME
    unit.write_text(render_unit(definition_for(state, executable=exe)))
    result = systemd_verify(unit)
    assert result.returncode == 0, result.stderr
    assert str(unit) not in result.stderr, result.stderr  # no "Unknown key ... ignoring" warnings


def test_systemd_analyze_would_catch_a_broken_unit(tmp_path: Path, fake_moltbot: Callable) -> None:
    """Guards the test above: verify really reads the file and reports problems."""
    unit = tmp_path / UNIT_NAME
    text = render_unit(definition_for(tmp_path, executable=fake_moltbot()))
    unit.write_text(text.replace("Restart=always", "Restart=always\nRestartBogus=1"))
    assert "RestartBogus" in systemd_verify(unit).stderr


def test_line_breaks_cannot_be_smuggled_into_the_unit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line break"):
        render_unit(definition_for(tmp_path / "a\nExecStartPre=/bin/evil", executable="/bin/true"))


def test_plist_keeps_alive_on_failure_and_loads_the_env_file(tmp_path: Path, fake_moltbot: Callable) -> None:
    exe = fake_moltbot()
    data = plistlib.loads(render_plist(definition_for(tmp_path / "state", executable=exe)).encode())
    assert data["Label"] == LABEL
    assert data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["RunAtLoad"] is True and data["ThrottleInterval"] >= 10
    args = data["ProgramArguments"]
    assert args[1:4] == ["-m", "moltbot.daemon.launch", str(tmp_path / "state" / "gateway.env")]
    assert args[4:] == ["--", exe, "gateway", "run"]
    assert Path(args[0]).is_absolute()
    assert data["EnvironmentVariables"]["MOLTBOT_STATE_DIR"] == str(tmp_path / "state")
    assert data["StandardErrorPath"].startswith(str(tmp_path / "state" / "logs"))
    assert data["Umask"] == 0o077

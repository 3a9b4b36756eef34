"""Install/uninstall/control/status against a temporary unit dir and fake systemctl/launchctl."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from moltbot.cli.daemon_cmd import DAEMON_COMMANDS
from moltbot.cli.state import CliState
from moltbot.config import resolve_paths
from moltbot.daemon import DaemonError, definition_for, manager_for, read_env_file
from moltbot.daemon.launchd import LABEL, LaunchdManager
from moltbot.errors import ConfigError


@click.group()
def gateway() -> None:
    """Stands in for the gateway workstream's ``moltbot gateway`` group."""


for _command in DAEMON_COMMANDS:
    gateway.add_command(_command)


@pytest.fixture
def invoke(moltbot_home: Path, tmp_path: Path, fake_bin, fake_moltbot, monkeypatch) -> Callable:
    monkeypatch.setenv("MOLTBOT_DAEMON_UNIT_DIR", str(tmp_path / "units"))
    monkeypatch.setattr("moltbot.daemon.definition.find_moltbot", lambda: fake_moltbot())
    fake_bin.add("systemctl")
    fake_bin.add("loginctl", [[["show-user"], 0, "Linger=no\n", ""]])

    def run(*args: str, ok: bool = True) -> click.testing.Result:
        state = CliState(paths=resolve_paths(), no_plugins=True)
        result = CliRunner().invoke(gateway, list(args), obj=state, catch_exceptions=not ok)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def healthz() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()
            self.wfile.write(b'{"ok":true}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_install_writes_enables_starts_and_advises_linger(
    invoke, moltbot_home: Path, tmp_path, fake_bin
) -> None:
    result = invoke("install")
    unit = tmp_path / "units" / "moltbot-gateway.service"
    assert unit.exists() and f"MOLTBOT_STATE_DIR={moltbot_home}" in unit.read_text()
    assert fake_bin.calls("systemctl") == [
        ["--user", "daemon-reload"],
        ["--user", "enable", "moltbot-gateway.service"],
        ["--user", "restart", "moltbot-gateway.service"],
    ]
    assert "loginctl enable-linger" in result.output
    env_file = moltbot_home / "gateway.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert (tmp_path / "home" / "clawd").is_dir()  # WorkingDirectory must exist


def test_install_with_linger_gives_no_advice(invoke, fake_bin) -> None:
    fake_bin.add("loginctl", [[["show-user"], 0, "Linger=yes\n", ""]])
    assert "enable-linger" not in invoke("install").output


def test_install_refuses_an_invalid_config(invoke, moltbot_home: Path, tmp_path: Path, fake_bin) -> None:
    moltbot_home.mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text('{"gateway": {"prot": 1}}')
    result = invoke("install", ok=False)
    assert isinstance(result.exception, ConfigError)
    assert not (tmp_path / "units").exists() and fake_bin.calls() == []


def test_install_resolves_secrets_from_the_env_file(invoke, moltbot_home: Path) -> None:
    moltbot_home.mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text('{"gateway": {"auth": {"token": "${MY_TOKEN}"}}}')
    (moltbot_home / "gateway.env").write_text("MY_TOKEN=abc\n")
    invoke("install", "--no-start")


def test_systemctl_failure_is_explained(invoke, fake_bin, tmp_path: Path) -> None:
    fake_bin.add(
        "systemctl", [[["--user", "daemon-reload"], 1, "", "Failed to connect to bus: No medium found\n"]]
    )
    result = invoke("install", ok=False)
    assert isinstance(result.exception, DaemonError)
    message = str(result.exception)
    assert "No medium found" in message and "enable-linger" in message and "units" in message


def test_status_reports_last_exit_78_and_probes_healthz(
    invoke, fake_bin, moltbot_home: Path, healthz: int
) -> None:
    invoke("install")
    moltbot_home.joinpath("moltbot.json").write_text(json.dumps({"gateway": {"port": healthz}}))
    fake_bin.add(
        "systemctl",
        state={
            "ActiveState": "failed",
            "SubState": "failed",
            "MainPID": "0",
            "ExecMainCode": "1",
            "ExecMainStatus": "78",
            "NRestarts": "0",
        },
    )
    data = json.loads(invoke("status", "--json").output)
    assert data["installed"] is True and data["running"] is False
    assert data["lastExit"] == 78 and any("invalid configuration" in n for n in data["notes"])
    assert data["health"] == {"url": f"http://127.0.0.1:{healthz}/healthz", "ok": True, "status": 200}


def test_status_of_a_running_service_in_text(invoke, moltbot_home: Path) -> None:
    invoke("install")
    out = invoke("status", "--no-probe").output
    assert "installed: yes" in out and "running:   yes [active (running)] pid 4242" in out


def test_status_when_nothing_listens(invoke, moltbot_home: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    moltbot_home.mkdir(parents=True)
    moltbot_home.joinpath("moltbot.json").write_text(json.dumps({"gateway": {"port": port}}))
    out = invoke("status").output
    assert "installed: no" in out and "health:    failed" in out


def test_stop_start_restart_and_uninstall(invoke, fake_bin, tmp_path: Path, moltbot_home: Path) -> None:
    invoke("install")
    for action in ("stop", "start", "restart"):
        invoke(action)
    invoke("uninstall")
    assert fake_bin.calls("systemctl")[3:] == [
        ["--user", "stop", "moltbot-gateway.service"],
        ["--user", "start", "moltbot-gateway.service"],
        ["--user", "restart", "moltbot-gateway.service"],
        ["--user", "disable", "--now", "moltbot-gateway.service"],
        ["--user", "daemon-reload"],
    ]
    assert not (tmp_path / "units" / "moltbot-gateway.service").exists()
    assert (moltbot_home / "gateway.env").exists()  # secrets are not deleted with the unit


def test_controlling_an_uninstalled_service_is_an_error(invoke) -> None:
    result = invoke("start", ok=False)
    assert isinstance(result.exception, DaemonError) and "moltbot gateway install" in str(result.exception)
    assert "nothing to remove" in invoke("uninstall").output


def test_unsupported_platform() -> None:
    with pytest.raises(DaemonError, match="not supported on win32"):
        manager_for("win32")


PRINT = """gui/501/ai.moltbot.gateway = {
\tactive count = 1
\tpath = /Users/me/Library/LaunchAgents/ai.moltbot.gateway.plist
\tstate = running
\tprogram = /usr/bin/python3
\tpid = 812
\tlast exit code = 78
}
"""


def test_launchd_install_status_and_uninstall(tmp_path: Path, fake_bin, fake_moltbot) -> None:
    fake_bin.add("launchctl", [[["print"], 113, "", "Could not find service\n"]])
    manager = manager_for("darwin", unit_dir=tmp_path / "agents")
    assert isinstance(manager, LaunchdManager)
    manager.install(definition_for(tmp_path / "state", executable=fake_moltbot()))
    target = manager.target
    assert fake_bin.calls("launchctl") == [
        ["print", target],
        ["bootstrap", manager.domain, str(tmp_path / "agents" / f"{LABEL}.plist")],
        ["enable", target],
    ]
    fake_bin.add("launchctl", [[["print"], 0, PRINT, ""]])
    status = manager.status()
    assert (status.running, status.pid, status.last_exit) == (True, 812, 78)
    manager.control("restart")
    manager.uninstall()
    assert fake_bin.calls("launchctl")[-3:] == [
        ["kickstart", "-k", target],
        ["print", target],
        ["bootout", target],
    ]
    assert not (tmp_path / "agents" / f"{LABEL}.plist").exists()


def test_env_file_round_trips_awkward_values_with_mode_0600(tmp_path: Path) -> None:
    from moltbot.daemon import write_env_file

    values = {"A": "plain-1.2", "B": 'sp ace "q" $HOME \\ #x', "C": ""}
    path = tmp_path / "gateway.env"
    write_env_file(path, values)
    assert read_env_file(path) == values
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="line break"):
        write_env_file(path, {"A": "x\nB=y"})
    assert read_env_file(path) == values  # a refused write leaves the file as it was


def test_install_daemon_flag_on_the_gateway_group(invoke, tmp_path: Path, fake_bin) -> None:
    from moltbot.cli.daemon_cmd import install_daemon_option

    ran: list[str] = []

    @click.group(invoke_without_command=True)
    @install_daemon_option
    def group() -> None:
        ran.append("gateway")  # the foreground gateway must not start

    state = CliState(paths=resolve_paths(), no_plugins=True)
    result = CliRunner().invoke(group, ["--install-daemon"], obj=state, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "units" / "moltbot-gateway.service").exists() and ran == []
    assert ["--user", "enable", "moltbot-gateway.service"] in fake_bin.calls("systemctl")


def test_environment_with_secrets_layers_the_process_env_over_the_file(tmp_path: Path) -> None:
    from moltbot.daemon import environment_with_secrets, write_env_file

    write_env_file(tmp_path / "gateway.env", {"A": "file", "B": "file"})
    assert environment_with_secrets(tmp_path, {"B": "env"}) == {"A": "file", "B": "env"}
    assert environment_with_secrets(tmp_path / "missing", {"B": "env"}) == {"B": "env"}
    (tmp_path / "gateway.env").write_text("not an assignment\n")
    with pytest.raises(ConfigError, match="expected NAME=value"):
        environment_with_secrets(tmp_path, {})

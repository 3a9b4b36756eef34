"""The systemd **user** unit (Linux): rendering and its quoting rules."""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path

from moltbot.daemon.definition import DaemonDefinition, DaemonError
from moltbot.daemon.manager import DaemonManager, DaemonStatus
from moltbot.errors import EX_CONFIG

UNIT_NAME = "moltbot-gateway.service"

HARDENING = (
    "NoNewPrivileges=yes",
    "UMask=0077",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "SystemCallArchitectures=native",
)
"""Options a user manager can apply without privileges. Namespace options (PrivateTmp,
ProtectSystem, RestrictNamespaces) are left out: user managers cannot always create mount
namespaces, and the tool sandbox (bubblewrap) needs user namespaces."""

_SAFE_RE = re.compile(r"^[A-Za-z0-9_@+=:,./-]+$")


def render_unit(d: DaemonDefinition) -> str:
    """The unit text. ``Restart=always`` every 5 s without a start limit (a gateway that fails
    while the network or tailscaled comes up must keep trying), except after exit 78 (bad config),
    which would only fail again until a human fixes the file."""
    env_lines = [f"Environment={_quote(f'{k}={v}')}" for k, v in sorted(d.environment.items())]
    exe, *args = d.program
    lines = [
        "# Installed by `moltbot gateway install`; reinstall rather than edit (changes are overwritten).",
        "[Unit]",
        "Description=moltbot gateway (personal AI assistant)",
        "After=network-online.target",
        "Wants=network-online.target",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        "ExecStart=" + " ".join([_quote(exe), *(_quote(arg, expands=True) for arg in args)]),
        f"WorkingDirectory={_escape(str(d.working_dir))}",
        f"EnvironmentFile=-{_escape(str(d.env_file))}",
        *env_lines,
        "Restart=always",
        "RestartSec=5",
        f"RestartPreventExitStatus={EX_CONFIG}",
        "TimeoutStopSec=30",
        "KillMode=mixed",
        *HARDENING,
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Escape systemd specifiers (``%``) and line breaks, which would change the meaning."""
    if "\n" in text:
        raise ValueError(f"a line break cannot appear in a unit file value: {text!r}")
    return text.replace("%", "%%")


def _quote(word: str, *, expands: bool = False) -> str:
    """One word of ``ExecStart=``/``Environment=``: quoted when it contains anything unusual.
    In ``ExecStart=`` arguments (not the program) systemd expands ``$VAR``, so ``$`` is doubled."""
    text = _escape(word)
    if expands:
        text = text.replace("$", "$$")
    if _SAFE_RE.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


_SHOW = "LoadState,ActiveState,SubState,MainPID,ExecMainStatus,ExecMainCode,NRestarts,UnitFileState"


class SystemdManager(DaemonManager):
    name = "systemd"

    @property
    def unit_path(self) -> Path:
        return self.unit_dir / UNIT_NAME

    def render(self, definition: DaemonDefinition) -> str:
        return render_unit(definition)

    def _systemctl(self, *args: str) -> list[str]:
        return ["systemctl", "--user", *args]

    def install(self, definition: DaemonDefinition, *, start: bool = True) -> list[str]:
        self._write_unit(definition)
        advice = [f"wrote {self.unit_path}"]
        hint = " (no user session? see `loginctl enable-linger`)"
        try:
            self._check(self._systemctl("daemon-reload"), "reloading systemd" + hint)
            self._check(self._systemctl("enable", UNIT_NAME), "enabling the service")
            if start:
                self._check(self._systemctl("restart", UNIT_NAME), "starting the service")
                advice.append(f"started {UNIT_NAME}; follow it with `journalctl --user -u {UNIT_NAME} -f`")
        except DaemonError as exc:
            raise DaemonError(f"{exc}; the unit file was written to {self.unit_path}") from None
        advice += self._linger_advice()
        return advice

    def _linger_advice(self) -> list[str]:
        user = os.environ.get("USER") or getpass.getuser()
        advice = (
            f"to keep the gateway running after you log out and start it at boot, run: "
            f"sudo loginctl enable-linger {user}"
        )
        try:
            result = self.runner(["loginctl", "show-user", user, "--property=Linger"])
        except DaemonError:
            return [advice]
        if result.returncode == 0 and "Linger=yes" in result.stdout:
            return []
        return [advice]

    def uninstall(self) -> list[str]:
        if not self.unit_path.exists():
            return [f"nothing to remove: {self.unit_path} does not exist"]
        result = self.runner(self._systemctl("disable", "--now", UNIT_NAME))
        notes = [] if result.returncode == 0 else [f"systemctl disable said: {result.said}"]
        self.unit_path.unlink()
        self.runner(self._systemctl("daemon-reload"))
        return [*notes, f"removed {self.unit_path}; the state dir and its gateway.env were kept"]

    def control(self, action: str) -> None:
        if action not in ("start", "stop", "restart"):
            raise ValueError(action)
        self._require_installed()
        self._check(self._systemctl(action, UNIT_NAME), f"{action} of the gateway service")

    def status(self) -> DaemonStatus:
        status = DaemonStatus(
            manager=self.name, unit_path=str(self.unit_path), installed=self.unit_path.exists()
        )
        result = self.runner(self._systemctl("show", UNIT_NAME, f"--property={_SHOW}"))
        if result.returncode != 0:
            status.notes.append(f"systemctl --user show failed: {result.said}")
            return status
        props = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        status.state = f"{props.get('ActiveState', 'unknown')} ({props.get('SubState', '?')})"
        status.running = props.get("ActiveState") == "active"
        status.pid = _int(props.get("MainPID")) or None
        status.restarts = _int(props.get("NRestarts"))
        code, value = props.get("ExecMainCode", "0"), _int(props.get("ExecMainStatus"))
        if code == "1":  # CLD_EXITED: value is the exit status
            status.last_exit = value
        elif code in ("2", "3"):  # CLD_KILLED / CLD_DUMPED: value is the signal
            status.notes.append(f"the last run was killed by signal {value}")
        if status.last_exit == EX_CONFIG and not status.running:
            status.notes.append(
                "the gateway exited with 78 (invalid configuration) and will not be restarted until "
                "the config is fixed: `moltbot config validate`, then `moltbot gateway restart`"
            )
        return status


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "", "[not set]") else None
    except ValueError:
        return None

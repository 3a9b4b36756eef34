"""The launchd agent (macOS): a plist in ``~/Library/LaunchAgents`` driven with ``launchctl``.

launchd has no environment file, so the agent runs ``python -m moltbot.daemon.launch`` which
loads ``gateway.env`` and then execs ``moltbot gateway run``.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path
from typing import Any

from moltbot.daemon.definition import DaemonDefinition
from moltbot.daemon.manager import DaemonManager, DaemonStatus
from moltbot.errors import EX_CONFIG

LABEL = "ai.moltbot.gateway"


def default_agent_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def plist_data(d: DaemonDefinition) -> dict[str, Any]:
    """``KeepAlive`` restarts the gateway only after a failure (``SuccessfulExit`` false);
    ``ThrottleInterval`` spaces restarts, so a bad config retries every 30 s, not in a loop."""
    return {
        "Label": LABEL,
        "ProgramArguments": [d.python, "-m", "moltbot.daemon.launch", str(d.env_file), "--", *d.program],
        "WorkingDirectory": str(d.working_dir),
        "EnvironmentVariables": dict(sorted(d.environment.items())),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,
        "ProcessType": "Background",
        "Umask": 0o077,
        "StandardOutPath": str(d.log_dir / "gateway.out.log"),
        "StandardErrorPath": str(d.log_dir / "gateway.err.log"),
    }


def render_plist(d: DaemonDefinition) -> str:
    return plistlib.dumps(plist_data(d), sort_keys=False).decode()


class LaunchdManager(DaemonManager):
    name = "launchd"

    @property
    def unit_path(self) -> Path:
        return self.unit_dir / f"{LABEL}.plist"

    @property
    def domain(self) -> str:
        return f"gui/{os.getuid()}"

    @property
    def target(self) -> str:
        return f"{self.domain}/{LABEL}"

    def render(self, definition: DaemonDefinition) -> str:
        return render_plist(definition)

    def _loaded(self) -> bool:
        return self.runner(["launchctl", "print", self.target]).returncode == 0

    def install(self, definition: DaemonDefinition, *, start: bool = True) -> list[str]:
        self._write_unit(definition)
        if self._loaded():
            self.runner(["launchctl", "bootout", self.target])
        if start:
            self._check(["launchctl", "bootstrap", self.domain, str(self.unit_path)], "loading the agent")
            self._check(["launchctl", "enable", self.target], "enabling the agent")
        return [f"wrote {self.unit_path}", f"logs: {definition.log_dir}/gateway.err.log"]

    def uninstall(self) -> list[str]:
        if not self.unit_path.exists():
            return [f"nothing to remove: {self.unit_path} does not exist"]
        if self._loaded():
            self.runner(["launchctl", "bootout", self.target])
        self.unit_path.unlink()
        return [f"removed {self.unit_path}; the state dir and its gateway.env were kept"]

    def control(self, action: str) -> None:
        self._require_installed()
        if action == "stop":
            if self._loaded():
                self._check(["launchctl", "bootout", self.target], "stopping the agent")
            return
        if not self._loaded():
            self._check(["launchctl", "bootstrap", self.domain, str(self.unit_path)], "loading the agent")
            if action == "start":
                return
        self._check(["launchctl", "kickstart", "-k", self.target], f"{action} of the agent")

    def status(self) -> DaemonStatus:
        status = DaemonStatus(
            manager=self.name, unit_path=str(self.unit_path), installed=self.unit_path.exists()
        )
        result = self.runner(["launchctl", "print", self.target])
        if result.returncode != 0:
            status.state = "not loaded"
            return status
        fields = dict(re.findall(r"^\s*([a-z][a-z ]*?) = (.+)$", result.stdout, re.MULTILINE))
        status.state = fields.get("state", "unknown")
        status.running = status.state == "running"
        status.pid = int(fields["pid"]) if fields.get("pid", "").isdigit() else None
        code = fields.get("last exit code", "")
        status.last_exit = int(code) if code.lstrip("-").isdigit() else None
        if status.last_exit == EX_CONFIG:
            status.notes.append(
                "the gateway exited with 78 (invalid configuration): run `moltbot config validate`"
            )
        return status

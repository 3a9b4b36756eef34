"""The service-manager seam: install/uninstall/start/stop/restart/status for one platform.

Managers run ``systemctl``/``launchctl`` through a :data:`Runner` (default: a real subprocess
found on ``PATH``), so tests put fake executables on ``PATH``; unit files go to a directory the
caller may override.
"""

from __future__ import annotations

import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moltbot.daemon.definition import DaemonDefinition, DaemonError
from moltbot.daemon.envfile import ensure_private

Runner = Callable[[Sequence[str]], "RunResult"]


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def said(self) -> str:
        return (self.stderr or self.stdout).strip()


def run_command(argv: Sequence[str]) -> RunResult:
    """Run a service-manager command with a timeout; a missing executable is a DaemonError."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise DaemonError(f"`{argv[0]}` is not available on this system") from None
    except subprocess.TimeoutExpired:
        raise DaemonError(f"`{' '.join(argv)}` did not finish within 60 s") from None
    return RunResult(done.returncode, done.stdout, done.stderr)


@dataclass
class DaemonStatus:
    """What ``moltbot gateway status`` prints."""

    manager: str
    unit_path: str
    installed: bool
    running: bool = False
    state: str = "unknown"
    pid: int | None = None
    last_exit: int | None = None
    restarts: int | None = None
    notes: list[str] = field(default_factory=list)
    health: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "manager": self.manager,
            "unitPath": self.unit_path,
            "installed": self.installed,
            "running": self.running,
            "state": self.state,
            "pid": self.pid,
            "lastExit": self.last_exit,
            "restarts": self.restarts,
            "notes": self.notes,
            "health": self.health,
        }


class DaemonManager(ABC):
    """One platform's service manager, for the gateway service."""

    name: str

    def __init__(self, unit_dir: Path, runner: Runner = run_command) -> None:
        self.unit_dir = unit_dir
        self.runner = runner

    @property
    @abstractmethod
    def unit_path(self) -> Path:
        """Where the unit file or plist is written."""

    @abstractmethod
    def render(self, definition: DaemonDefinition) -> str:
        """The unit file or plist text."""

    @abstractmethod
    def install(self, definition: DaemonDefinition, *, start: bool = True) -> list[str]:
        """Write the unit, register it, start (or restart) it; returns advice lines."""

    @abstractmethod
    def uninstall(self) -> list[str]:
        """Stop and unregister the service and delete the unit; state and secrets stay."""

    @abstractmethod
    def control(self, action: str) -> None:
        """``start``, ``stop`` or ``restart``."""

    @abstractmethod
    def status(self) -> DaemonStatus:
        """Installed? running? last exit?"""

    def _write_unit(self, definition: DaemonDefinition) -> None:
        from moltbot.config.store import atomic_write

        definition.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        definition.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        ensure_private(definition.env_file)
        atomic_write(self.unit_path, self.render(definition).encode(), mode=0o644, keep_backup=False)

    def _require_installed(self) -> None:
        if not self.unit_path.exists():
            raise DaemonError(
                f"the gateway service is not installed ({self.unit_path} does not exist); "
                "run `moltbot gateway install`"
            )

    def _check(self, argv: Sequence[str], what: str) -> RunResult:
        result = self.runner(argv)
        if result.returncode != 0:
            raise DaemonError(f"{what} failed: `{' '.join(argv)}` said: {result.said or result.returncode}")
        return result


def manager_for(
    platform: str | None = None, *, unit_dir: Path | None = None, runner: Runner = run_command
) -> DaemonManager:
    """The manager for ``platform`` (default: this machine)."""
    platform = platform or sys.platform
    if platform.startswith("linux"):
        from moltbot.daemon.systemd import SystemdManager, default_unit_dir

        return SystemdManager(unit_dir or default_unit_dir(), runner)
    if platform == "darwin":
        from moltbot.daemon.launchd import LaunchdManager, default_agent_dir

        return LaunchdManager(unit_dir or default_agent_dir(), runner)
    raise DaemonError(
        f"installing a service is not supported on {platform}; run `moltbot gateway run` under your "
        "own supervisor, or use the Docker image (docs/deployment.md)"
    )

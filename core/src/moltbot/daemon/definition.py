"""What the service runs: the absolute ``moltbot`` executable, ``gateway run``, and where."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from moltbot.daemon.envfile import env_file_path
from moltbot.errors import MoltbotError

GATEWAY_ARGS = ("gateway", "run")
"""The sub-command a service runs (the gateway workstream's ``moltbot gateway run``)."""


class DaemonError(MoltbotError):
    """The service could not be installed or controlled; the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class DaemonDefinition:
    """Everything a unit file or plist needs; built by :func:`definition_for`."""

    program: tuple[str, ...]
    """Absolute executable followed by its arguments."""
    state_dir: Path
    working_dir: Path
    env_file: Path
    environment: dict[str, str] = field(default_factory=dict)
    """Non-secret variables written into the unit (``MOLTBOT_STATE_DIR``, ``PATH``)."""
    python: str = sys.executable
    """The interpreter of this installation (launchd runs the env-file wrapper with it)."""

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def find_moltbot() -> str:
    """The absolute path of the ``moltbot`` console script of *this* installation.

    The script next to the running interpreter wins (a venv or pipx install), then ``PATH``.
    Symlinks are kept so that an upgrade in place keeps working.
    """
    beside = Path(sys.executable).parent / "moltbot"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside.absolute())
    found = shutil.which("moltbot")
    if found:
        return str(Path(found).absolute())
    raise DaemonError(
        "cannot find the `moltbot` executable to run as a service; install moltbot-core with "
        "pipx (`pipx install moltbot-core`) or into a venv, and run this command from it"
    )


def definition_for(
    state_dir: Path,
    *,
    workspace: Path | None = None,
    executable: str | None = None,
    config_path: Path | None = None,
) -> DaemonDefinition:
    """The service for the gateway whose state lives in ``state_dir``."""
    exe = executable or find_moltbot()
    if not Path(exe).is_absolute():
        raise DaemonError(f"the service needs an absolute executable path, got {exe!r}")
    state_dir = state_dir.expanduser().absolute()
    environment = {
        "MOLTBOT_STATE_DIR": str(state_dir),
        "PATH": os.pathsep.join(dict.fromkeys([str(Path(exe).parent), "/usr/local/bin", "/usr/bin", "/bin"])),
        "PYTHONUNBUFFERED": "1",
    }
    if config_path is not None:
        environment["MOLTBOT_CONFIG_PATH"] = str(config_path.expanduser().absolute())
    working = (workspace or state_dir).expanduser().absolute()
    return DaemonDefinition(
        program=(exe, *GATEWAY_ARGS),
        state_dir=state_dir,
        working_dir=working,
        env_file=env_file_path(state_dir),
        environment=environment,
    )

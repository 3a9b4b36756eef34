"""Running the gateway as a service: systemd user units, launchd agents, the Docker entrypoint.

``moltbot gateway install|uninstall|start|stop|restart|status`` (:mod:`moltbot.cli.daemon_cmd`)
and ``moltbot onboard --install-daemon`` use :func:`install_gateway_service`.
"""

from __future__ import annotations

from pathlib import Path

from moltbot.daemon.definition import GATEWAY_ARGS, DaemonDefinition, DaemonError, definition_for
from moltbot.daemon.envfile import (
    env_file_path,
    environment_with_secrets,
    read_env_file,
    write_env_file,
)
from moltbot.daemon.manager import DaemonManager, DaemonStatus, Runner, RunResult, manager_for, run_command


def install_gateway_service(
    state_dir: Path,
    *,
    workspace: Path | None = None,
    config_path: Path | None = None,
    unit_dir: Path | None = None,
    start: bool = True,
) -> list[str]:
    """Install (or reinstall) and start the gateway service for this machine; returns advice."""
    manager = manager_for(unit_dir=unit_dir)
    definition = definition_for(state_dir, workspace=workspace, config_path=config_path)
    return manager.install(definition, start=start)


__all__ = [
    "GATEWAY_ARGS",
    "DaemonDefinition",
    "DaemonError",
    "DaemonManager",
    "DaemonStatus",
    "RunResult",
    "Runner",
    "definition_for",
    "env_file_path",
    "environment_with_secrets",
    "install_gateway_service",
    "manager_for",
    "read_env_file",
    "run_command",
    "write_env_file",
]

"""``moltbot gateway install|uninstall|start|stop|restart|status``: the gateway as a user service.

The commands are collected in :data:`DAEMON_COMMANDS` for the ``gateway`` group to attach; they
read the config with the secrets from ``<state dir>/gateway.env``, as the service will.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.config import Settings, load_settings
from moltbot.daemon import DaemonManager, definition_for, manager_for
from moltbot.daemon.envfile import environment_with_secrets
from moltbot.daemon.probe import probe, probe_url
from moltbot.errors import ConfigError

UNIT_DIR_VAR = "MOLTBOT_DAEMON_UNIT_DIR"
_unit_dir = click.option(
    "--unit-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=UNIT_DIR_VAR,
    hidden=True,
    help="Where the unit file or plist goes (default: the platform's user directory).",
)


def service_settings(state: CliState) -> Settings:
    """The config as the service will see it: ``gateway.env`` under the process environment."""
    env = environment_with_secrets(state.paths.state_dir, state.env)
    return load_settings(state.paths.config_path, state.plugins, env)


def _manager(unit_dir: Path | None) -> DaemonManager:
    if unit_dir is None and os.environ.get(UNIT_DIR_VAR):
        unit_dir = Path(os.environ[UNIT_DIR_VAR])
    return manager_for(unit_dir=unit_dir)


def install_service(state: CliState, *, unit_dir: Path | None = None, start: bool = True) -> list[str]:
    """Validate the config, then write, enable and (re)start the unit; returns advice lines."""
    settings = service_settings(state)  # a broken config fails here, not in a restart loop
    workspace = Path(settings.agent.workspace).expanduser()
    workspace.mkdir(parents=True, exist_ok=True, mode=0o700)
    config_path = state.paths.config_path if "MOLTBOT_CONFIG_PATH" in state.env else None
    definition = definition_for(state.paths.state_dir, workspace=workspace, config_path=config_path)
    return _manager(unit_dir).install(definition, start=start)


@click.command("install")
@click.option("--no-start", is_flag=True, help="Write and enable the unit without starting it.")
@_unit_dir
@pass_state
def install_command(state: CliState, no_start: bool, unit_dir: Path | None) -> None:
    """Install the gateway as a user service (systemd on Linux, launchd on macOS) and start it.

    Secrets go in <state dir>/gateway.env (mode 0600), which the service loads.
    Reinstalling rewrites the unit and restarts the gateway.
    """
    for line in install_service(state, unit_dir=unit_dir, start=not no_start):
        click.echo(line)


@click.command("uninstall")
@_unit_dir
def uninstall_command(unit_dir: Path | None) -> None:
    """Stop the service and remove its unit; the state dir and secrets stay."""
    for line in _manager(unit_dir).uninstall():
        click.echo(line)


def _control(action: str) -> click.Command:
    @click.command(action)
    @_unit_dir
    def command(unit_dir: Path | None) -> None:
        _manager(unit_dir).control(action)
        click.echo(f"{action}: ok")

    command.help = f"{action.capitalize()} the installed gateway service."
    return command


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-probe", is_flag=True, help="Do not probe the gateway's /healthz.")
@_unit_dir
@pass_state
def status_command(state: CliState, as_json: bool, no_probe: bool, unit_dir: Path | None) -> None:
    """Show whether the service is installed and running, its last exit, and probe /healthz."""
    status = _manager(unit_dir).status()
    try:
        settings = service_settings(state)
    except ConfigError as exc:
        status.notes.append(f"the config is invalid, so the gateway cannot start: {exc.problems[0][1]}")
        settings = Settings()
    if not no_probe:
        status.health = probe(probe_url(settings))
    if as_json:
        click.echo(json.dumps(status.to_json(), indent=2))
        return
    _print_status(status.to_json())


def _print_status(data: dict[str, Any]) -> None:
    click.echo(f"service:   {data['manager']} unit {data['unitPath']}")
    click.echo(f"installed: {'yes' if data['installed'] else 'no'}")
    running = "yes" if data["running"] else "no"
    click.echo(f"running:   {running} [{data['state']}]" + (f" pid {data['pid']}" if data["pid"] else ""))
    if data["lastExit"] is not None:
        click.echo(f"last exit: {data['lastExit']}")
    if data["restarts"]:
        click.echo(f"restarts:  {data['restarts']}")
    health = data["health"]
    if health is not None:
        verdict = "ok" if health["ok"] else f"failed ({health.get('status') or health.get('error')})"
        click.echo(f"health:    {verdict}  {health['url']}")
    for note in data["notes"]:
        click.echo(f"note: {note}")


def _install_daemon(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    state = ctx.find_object(CliState)
    if state is None:
        raise click.UsageError("--install-daemon needs the moltbot CLI state")
    for line in install_service(state):
        click.echo(line)
    ctx.exit(0)


install_daemon_option = click.option(
    "--install-daemon",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_install_daemon,
    help="Install the gateway as a user service, start it, and exit (same as `gateway install`).",
)
"""The seed's ``moltbot gateway --install-daemon``: decorate the ``gateway`` group with it."""


DAEMON_COMMANDS: list[click.Command] = [
    install_command,
    uninstall_command,
    _control("start"),
    _control("stop"),
    _control("restart"),
    status_command,
]
"""Attach under ``moltbot gateway``: ``for c in DAEMON_COMMANDS: gateway.add_command(c)``."""

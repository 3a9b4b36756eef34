"""The ``moltbot`` command: a click group whose sub-commands come from plugins (core's too)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from loguru import logger

from moltbot import __version__
from moltbot.cli.state import CliState
from moltbot.errors import EX_CONFIG, ConfigError, MoltbotError


class PluginCommandGroup(click.Group):
    """Finds sub-commands through ``moltbot_register_commands`` once global options are parsed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_state(ctx).plugins.commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = _state(ctx).plugins.commands().get(cmd_name)
        return spec.factory() if spec else None


def _state(ctx: click.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState.from_params(root.params)
    return root.obj


@click.group(cls=PluginCommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="moltbot")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file (default: $MOLTBOT_CONFIG_PATH or <state dir>/moltbot.json).",
)
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    help="State directory (default: $MOLTBOT_STATE_DIR or ~/.moltbot).",
)
@click.option("--strict-plugins", is_flag=True, help="Fail when any plugin fails to load.")
@click.option("--no-plugins", is_flag=True, help="Load only moltbot-core's built-in plugins.")
@click.option("--debug", is_flag=True, help="Debug logging and full tracebacks.")
@click.pass_context
def cli(ctx: click.Context, **_: Any) -> None:
    """moltbot: a self-hosted personal AI assistant.

    One gateway process owns your chat channels, sessions, agent runs and tools.
    Start it with `moltbot run`.
    """
    _state(ctx)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps moltbot's errors to messages and exit codes."""
    logger.remove()
    logger.add(
        sys.stderr,
        level="DEBUG" if "--debug" in (argv or sys.argv) else "INFO",
        format="{time:HH:mm:ss} {level:<7} {message}",
    )
    try:
        cli.main(args=argv, prog_name="moltbot", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        click.echo("fix the file (`moltbot config validate` re-checks it); nothing was started.", err=True)
        sys.exit(EX_CONFIG)
    except MoltbotError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        if os.environ.get("MOLTBOT_DEBUG") or "--debug" in (argv or sys.argv):
            raise
        exc = sys.exc_info()[1]
        click.echo(f"error: unexpected {type(exc).__name__}: {exc}", err=True)
        click.echo("run with --debug for the full traceback", err=True)
        sys.exit(1)

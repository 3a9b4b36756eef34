"""``moltbot run``: the gateway process in the foreground (shared options for ``gateway``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from loguru import logger

from moltbot.cli.state import CliState, pass_state

F = Callable[..., Any]


def serve_options(func: F) -> F:
    """The options every command that starts the gateway accepts."""
    options = [
        click.option("--port", type=click.IntRange(0, 65535), help="Listen port (0: any free port)."),
        click.option(
            "--bind",
            type=click.Choice(["loopback", "lan", "custom"]),
            help="loopback (127.0.0.1), lan (0.0.0.0) or custom (gateway.customBindHost).",
        ),
        click.option("--auth", type=click.Choice(["token", "password", "none"]), help="Client auth mode."),
        click.option("--token", help="Shared token for this run (not written to the config)."),
        click.option("--password", help="Shared password for this run (not written to the config)."),
        click.option("--verbose", is_flag=True, help="Debug logging."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def start(state: CliState, **opts: Any) -> None:
    """Validate the config (exit 78 when unusable), then serve until SIGTERM/SIGINT."""
    from moltbot.runtime import Overrides, run_foreground

    if opts.pop("verbose", False):
        logger.remove()
        logger.add(sys.stderr, level="DEBUG", format="{time:HH:mm:ss} {level:<7} {message}")
    app = state.app()
    run_foreground(app, Overrides(**opts))


@click.command("run")
@serve_options
@pass_state
def run_command(state: CliState, **opts: Any) -> None:
    """Start the gateway (channels, agents, services) in the foreground."""
    start(state, **opts)

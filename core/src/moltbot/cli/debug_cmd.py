"""``moltbot debug``: inspection aids for bug hunting."""

from __future__ import annotations

import json

import click

from moltbot.cli.debug_trace_cmd import trace_command
from moltbot.cli.state import CliState, pass_state
from moltbot.ops.memprofile import profile_memory, render_profile


@click.group("debug")
def debug_command() -> None:
    """Debugging aids."""


debug_command.add_command(trace_command)


@debug_command.command("profile-memory")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--top", default=15, show_default=True, type=click.IntRange(min=1), help="Allocation sites shown."
)
@pass_state
def profile_memory_cmd(state: CliState, as_json: bool, top: int) -> None:
    """Memory of this process after loading plugins and config: RSS, gc, top allocations.

    A running gateway answers the same profile through the `debug.memory` RPC.
    """

    def workload() -> object:
        state.plugins.records()
        try:
            return state.settings()
        except Exception:
            return None

    profile = profile_memory(top=top, workload=workload)
    click.echo(json.dumps(profile, indent=2) if as_json else render_profile(profile))

"""``moltbot doctor``: what this machine and install look like, and what is wrong with them."""

from __future__ import annotations

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.ops.cli_support import home_of, run_report
from moltbot.ops.doctor import doctor


@click.command("doctor")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON document on stdout (schema: docs/operations.md)."
)
@click.option("--fix", is_flag=True, help="Repair what is safe: permissions, missing dirs, migrations.")
@pass_state
def doctor_command(state: CliState, as_json: bool, fix: bool) -> None:
    """Check the system, the config, the state dir, plugins and credentials.

    Exits 1 while an error-severity finding remains.
    """
    run_report(
        state,
        lambda ctx: doctor(ctx, home_of(state)),
        as_json=as_json,
        fix=fix,
        fail_on=("error", "critical"),
    )

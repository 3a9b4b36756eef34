"""``moltbot plugins``: what is installed, from which distribution, and whether it works."""

from __future__ import annotations

import json

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.plugins import PluginRecord


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def plugins_command(state: CliState, as_json: bool) -> None:
    """List plugins: name, distribution, version, what each provides, and status.

    Exits 1 when any plugin failed to load."""
    records = state.plugins.records()
    if as_json:
        click.echo(json.dumps({"plugins": [r.to_json() for r in records]}, indent=2))
    else:
        _print_table(records)
    if any(r.status == "failed" for r in records):
        raise SystemExit(1)


def _print_table(records: list[PluginRecord]) -> None:
    for record in records:
        status = record.status + (f": {record.reason}" if record.reason else "")
        color = {"active": "green", "blocked": "yellow", "failed": "red"}[record.status]
        click.echo(
            f"{record.name}  ({record.distribution} {record.version})  " + click.style(status, fg=color)
        )
        for kind, names in sorted(record.provides.items()):
            click.echo(f"    {kind.replace('_', ' ')}: {', '.join(sorted(names))}")

"""``moltbot diagnostics export``: a redacted bundle for bug reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.ops.cli_support import home_of, load_context
from moltbot.ops.diagnostics import export_bundle
from moltbot.ops.doctor import doctor


@click.group("diagnostics")
def diagnostics_command() -> None:
    """Diagnostics for bug reports."""


@diagnostics_command.command("export")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Bundle path (default ./moltbot-diagnostics-<time>.tar.gz).",
)
@pass_state
def export_cmd(state: CliState, output: Path | None) -> None:
    """Write doctor output, the config without secrets, recent logs and versions to one archive."""
    ctx = load_context(state)
    report = doctor(ctx, home_of(state)).to_json(fail_on=("error", "critical"))
    output = output or Path.cwd() / f"moltbot-diagnostics-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    names = export_bundle(
        output,
        doctor_report=report,
        raw_config=ctx.raw,
        effective_config=ctx.effective,
        plugin_records=[r.to_json() for r in state.plugins.records()],
        log_dir=ctx.state_dir / "logs",
        env=dict(ctx.env),
    )
    click.echo(f"wrote {output} ({len(names)} files); secrets are redacted, but review it before sharing")

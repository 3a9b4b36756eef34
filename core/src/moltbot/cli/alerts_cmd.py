"""``moltbot alerts``: the recent alert history, and a test alert through every sink."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
import trio

from moltbot.cli.state import CliState, pass_state
from moltbot.interfaces.alert_sink import Alert
from moltbot.monitoring.dispatch import build_alert_sinks, close_all, deliver
from moltbot.monitoring.history import AlertHistory


@click.group("alerts")
def alerts_command() -> None:
    """Monitoring alerts: recent history and delivery tests."""


@alerts_command.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_cmd(state: CliState, limit: int, as_json: bool) -> None:
    """Show the most recent alerts, newest first."""
    entries = AlertHistory.for_state_dir(state.paths.state_dir).entries()[::-1][:limit]
    if as_json:
        click.echo(json.dumps(entries))
        return
    if not entries:
        click.echo("no alerts recorded")
        return
    for e in entries:
        failed = [k for k, v in e.get("deliveries", {}).items() if v != "ok"]
        note = f"  (failed: {', '.join(failed)})" if failed else ""
        click.echo(f"{e['time']}  {e['state']:<8} {e['level']:<8} {e['metric']:<20} {e['message']}{note}")


@alerts_command.command("test")
@pass_state
def test_cmd(state: CliState) -> None:
    """Send a test alert through every configured alert sink and report each outcome."""
    app = state.app()
    sinks = build_alert_sinks(app)
    alert = Alert(
        level="warning",
        metric="test.alert",
        current_value=1.0,
        threshold=0.0,
        message="test alert from `moltbot alerts test`",
        time=datetime.now(UTC),
    )

    async def send() -> dict[str, str]:
        try:
            return await deliver(alert, sinks)
        finally:
            await close_all(sinks)

    results = trio.run(send)
    history = AlertHistory.for_state_dir(app.paths.state_dir, app.settings.monitoring.history_size)
    history.record(alert, results)
    for name, outcome in results.items():
        click.echo(f"{name}: {outcome}")
    if any(v != "ok" for v in results.values()):
        raise click.ClickException("some alert sinks failed")

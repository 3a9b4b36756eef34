"""``moltbot channels list|status``: what is configured, and how the running gateway sees it."""

from __future__ import annotations

import json

import click

from moltbot.cli.client_cmd import client_options, run_client, target
from moltbot.cli.state import CliState, pass_state
from moltbot.config.accounts import account_sections


@click.group("channels")
def channels_command() -> None:
    """Chat channels (WhatsApp, Telegram, ...)."""


@channels_command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def list_command(state: CliState, as_json: bool) -> None:
    """Installed channel plugins and whether the config enables them (no gateway needed)."""
    settings = state.settings()
    rows = []
    for name, spec in sorted(state.plugins.channels().items()):
        raw = settings.channels.get(name)
        if raw is None and spec.default_enabled:
            raw = {}
        enabled = isinstance(raw, dict) and raw.get("enabled", True) is not False
        configured = "enabled" if enabled else "disabled" if raw is not None else "not configured"
        accounts, _ = account_sections(raw) if raw is not None else ({}, [])
        rows.append(
            {
                "name": name,
                "plugin": state.plugins.owner("channels", name).name,
                "state": configured,
                "accounts": sorted(accounts),
                "summary": spec.summary,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no channel plugins installed (try: pip install moltbot-telegram)")
    for row in rows:
        accounts = row["accounts"]
        named = f" (accounts: {', '.join(accounts)})" if accounts and accounts != ["default"] else ""
        click.echo(f"{row['name']:<12} {row['state']:<15} {row['summary']}{named}")


@channels_command.command("status")
@click.option("--json", "as_json", is_flag=True, help="The raw channels.status payload.")
@client_options
@pass_state
def status_command(
    state: CliState, as_json: bool, url: str | None, token: str | None, password: str | None
) -> None:
    """Each channel's state in the running gateway (running, backoff, degraded, stopped)."""
    where, opts = target(state, url, token, password)
    payload = run_client(where, opts, lambda c: c.call("channels.status"))
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for name, status in sorted(payload.get("channels", {}).items()):
        line = f"{name:<12} {status.get('state')}"
        if status.get("lastError"):
            line += f"  last error: {status['lastError']}"
        if status.get("retryInMs") is not None and status.get("state") in ("backoff", "degraded"):
            line += f"  (retry in {status['retryInMs'] / 1000:.1f} s)"
        click.echo(line)
    if payload.get("degraded"):
        raise SystemExit(1)

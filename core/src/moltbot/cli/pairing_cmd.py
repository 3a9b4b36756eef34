"""``moltbot pairing list|approve|reject``: edit the DM pairing stores on disk.

No gateway is needed: the stores are files under ``<state>/credentials`` written atomically
under a lock, and a running gateway notices approvals on the next message.
"""

from __future__ import annotations

import json
import time

import click

from moltbot.channels.pairing import PairingStore
from moltbot.channels.rpc import request_json
from moltbot.channels.service import credentials_dir
from moltbot.cli.state import CliState, pass_state


def _store(state: CliState, channel: str) -> PairingStore:
    try:
        return PairingStore(credentials_dir(state.paths.state_dir), channel)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CHANNEL") from None


@click.group("pairing")
def pairing_command() -> None:
    """Approve unknown senders who messaged the bot (dmPolicy "pairing")."""


@pairing_command.command("list")
@click.argument("channel", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def list_command(state: CliState, channel: str | None, as_json: bool) -> None:
    """Pending requests of CHANNEL (default: every configured channel)."""
    names = [channel] if channel else sorted(state.settings().channels)
    rows = [request_json(n, r) for n in names for r in _store(state, n).list_pending()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no pending pairing requests")
    now = time.time()
    for row in rows:
        age = int((now - row["createdAt"]) // 60)
        name = f" ({row['senderName']})" if row["senderName"] else ""
        click.echo(f"{row['channel']:<10} {row['code']}  {row['sender']}{name}  {age} min ago")


@pairing_command.command("approve")
@click.argument("channel")
@click.argument("code")
@pass_state
def approve_command(state: CliState, channel: str, code: str) -> None:
    """Allow the sender who got CODE to talk to the agent on CHANNEL."""
    request = _store(state, channel).approve(code)
    if request is None:
        raise click.ClickException(
            f"no pending {channel} pairing request with code {code.strip().upper()}"
            " (expired after 1 hour, or already used); see `moltbot pairing list`"
        )
    click.echo(f"approved {request.sender} on {channel}")


@pairing_command.command("reject")
@click.argument("channel")
@click.argument("code")
@pass_state
def reject_command(state: CliState, channel: str, code: str) -> None:
    """Drop the pending request with CODE (the sender may ask again later)."""
    request = _store(state, channel).reject(code)
    if request is None:
        raise click.ClickException(f"no pending {channel} pairing request with code {code.strip().upper()}")
    click.echo(f"rejected {request.sender} on {channel}")

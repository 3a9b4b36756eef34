"""``moltbot message send``: send text through a channel of the running gateway."""

from __future__ import annotations

import uuid

import click

from moltbot.cli.client_cmd import client_options, run_client, target
from moltbot.cli.state import CliState, pass_state


@click.group("message")
def message_command() -> None:
    """Send messages through channels."""


@message_command.command("send")
@click.option("--channel", required=True, help="Channel name, e.g. telegram.")
@click.option("--target", "to", required=True, help="Chat id or phone number to send to.")
@click.option("--message", required=True, help="The text to send.")
@click.option("--account", default="default", show_default=True, help="Which account of the channel.")
@client_options
@pass_state
def send_command(
    state: CliState,
    channel: str,
    to: str,
    message: str,
    account: str,
    url: str | None,
    token: str | None,
    password: str | None,
) -> None:
    """Send MESSAGE to TARGET on CHANNEL (long text is split at the channel's limit)."""
    where, opts = target(state, url, token, password)
    params = {
        "channel": channel,
        "to": to,
        "message": message,
        "accountId": account,
        "idempotencyKey": uuid.uuid4().hex,
    }
    payload = run_client(where, opts, lambda c: c.call("send", params))
    ids = ", ".join(payload.get("messageIds", [])) or "(already sent)"
    click.echo(f"sent to {to} on {channel}: {ids}")

"""``moltbot gateway``: start it (bare or ``run``) and ``call`` a method on a running one."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click

from moltbot.cli.client_cmd import client_options, run_client, target
from moltbot.cli.daemon_cmd import DAEMON_COMMANDS, install_daemon_option
from moltbot.cli.run_cmd import serve_options, start
from moltbot.cli.state import CliState, pass_state


@click.group("gateway", invoke_without_command=True)
@serve_options
@install_daemon_option
@click.pass_context
def gateway_command(ctx: click.Context, **opts: Any) -> None:
    """Run the gateway in the foreground (same as `gateway run`), or talk to a running one."""
    if ctx.invoked_subcommand is None:
        start(ctx.find_object(CliState), **opts)


@gateway_command.command("run")
@serve_options
@pass_state
def run_cmd(state: CliState, **opts: Any) -> None:
    """Run the gateway in the foreground."""
    start(state, **opts)


@gateway_command.command("call")
@click.argument("method")
@click.option("--params", "params_json", default="{}", help="JSON object of params.")
@client_options
@pass_state
def call_cmd(
    state: CliState, method: str, params_json: str, url: str | None, token: str | None, password: str | None
) -> None:
    """Call METHOD on the running gateway and print its JSON result.

    Side-effecting methods get a fresh idempotencyKey unless --params has one."""
    try:
        params = json.loads(params_json)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--params") from None
    if not isinstance(params, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params")
    params.setdefault("idempotencyKey", str(uuid.uuid4()))
    where, opts = target(state, url, token, password)

    async def work(client: Any) -> Any:
        frame = await client.request(method, params)
        if not frame.get("ok"):
            error = frame.get("error") or {}
            raise click.ClickException(
                f"{error.get('code')}: {error.get('message')}"
                + (f"\n{json.dumps(error['details'], indent=2)}" if error.get("details") else "")
            )
        return frame.get("payload")

    click.echo(json.dumps(run_client(where, opts, work), indent=2, ensure_ascii=False))


for _command in DAEMON_COMMANDS:  # install|uninstall|start|stop|restart|status (the daemon workstream)
    gateway_command.add_command(_command)

"""``moltbot agent -m "…"``: one agent turn, through the running gateway or ``--local``."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click
import trio

from moltbot.cli.client_cmd import client_options, run_client, target
from moltbot.cli.state import CliState, pass_state
from moltbot.gateway.client import GatewayClient


@click.command("agent")
@click.option("-m", "--message", required=True, help="What to say to the agent.")
@click.option("--session", "session_key", default="main", show_default=True, help="Session key.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@click.option("--local", is_flag=True, help="Run the turn in this process instead of the gateway.")
@click.option(
    "--timeout", default=600.0, show_default=True, type=click.FloatRange(min=1), help="Seconds to wait."
)
@client_options
@pass_state
def agent_command(
    state: CliState,
    message: str,
    session_key: str,
    as_json: bool,
    local: bool,
    timeout: float,
    url: str | None,
    token: str | None,
    password: str | None,
) -> None:
    """Send one message to the agent and print its answer."""
    if local:
        result = trio.run(_local, state, session_key, message, timeout)
    else:
        address, opts = target(state, url, token, password)

        async def work(client: GatewayClient) -> dict[str, Any]:
            params = {"message": message, "sessionKey": session_key, "idempotencyKey": str(uuid.uuid4())}
            accepted = await client.call("agent", params)
            with trio.fail_after(timeout):
                while True:
                    result = await client.call("agent.wait", {"runId": accepted["runId"], "timeoutMs": 25000})
                    if result.get("status") != "timeout":
                        return result

        try:
            result = run_client(address, opts, work)
        except trio.TooSlowError:
            raise click.ClickException(f"no answer within {timeout:g} s") from None
    _print(result, as_json)


async def _local(state: CliState, session_key: str, message: str, timeout: float) -> dict[str, Any]:
    from moltbot.agent import AgentRuntime
    from moltbot.sessions.service import SessionService

    app = state.app()
    async with trio.open_nursery() as nursery:
        sessions = SessionService(app)
        app.services["sessions"] = sessions
        await nursery.start(sessions.run)
        runtime = AgentRuntime(app)
        app.services["agent"] = runtime
        await nursery.start(runtime.run)
        run_id = await runtime.submit(session_key=session_key, text=message)
        result = await runtime.wait(run_id, timeout=timeout)
        nursery.cancel_scope.cancel()
    return result


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if result.get("status") == "timeout":
        raise click.ClickException("the run is still going; see `moltbot debug trace` for its progress")
    click.echo(result.get("text", ""))
    if result.get("status") == "error":
        raise SystemExit(1)

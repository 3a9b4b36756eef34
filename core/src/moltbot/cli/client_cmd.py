"""CLI clients of a running gateway: ``moltbot health``, ``status``, ``logs``, and the helpers
``gateway call`` uses. They speak the WebSocket protocol like any other client."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import trio
from trio_websocket import HandshakeError

from moltbot.cli.state import CliState, pass_state
from moltbot.gateway.client import ConnectOptions, GatewayClient, GatewayClosed, connect
from moltbot.interfaces.rpc import RpcError

T = TypeVar("T")


def target(
    state: CliState, url: str | None, token: str | None, password: str | None
) -> tuple[str, ConnectOptions]:
    """URL and credentials: the options, else the config (and its env overrides)."""
    settings = state.settings()
    gw = settings.gateway
    if url is None:
        host = gw.custom_bind_host if gw.bind == "custom" and gw.custom_bind_host else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        url = f"{'wss' if gw.ssl.enabled else 'ws'}://{host}:{gw.port}"
    if token is None and password is None:
        token = gw.auth.token if gw.auth.mode == "token" else None
        password = gw.auth.password if gw.auth.mode == "password" else None
    return url, ConnectOptions(token=token, password=password)


def run_client(url: str, opts: ConnectOptions, work: Callable[[GatewayClient], Awaitable[T]]) -> T:
    """Connect, run ``work``, and turn failures into one-line CLI errors."""

    async def main() -> T:
        async with connect(url, opts) as client:
            return await work(client)

    try:
        return trio.run(main)
    except RpcError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except GatewayClosed as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, trio.TooSlowError, HandshakeError) as exc:
        reason = str(exc) or str(exc.__cause__ or "") or type(exc).__name__
        raise click.ClickException(
            f"cannot reach the gateway at {url}: {reason} (is `moltbot run` running?)"
        ) from None


def client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--password", help="Gateway password (default: from the config).")(func)
    func = click.option("--token", help="Gateway token (default: from the config).")(func)
    return click.option("--url", help="ws:// or wss:// URL (default: from the config).")(func)


def _print(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="The raw health payload.")
@client_options
@pass_state
def health_command(
    state: CliState, as_json: bool, url: str | None, token: str | None, password: str | None
) -> None:
    """Ask the running gateway whether it is healthy (exit 1 when not)."""
    where, opts = target(state, url, token, password)
    payload = run_client(where, opts, lambda c: c.call("health"))
    if as_json:
        _print(payload)
    else:
        click.echo(f"gateway {where}: {'ok' if payload.get('ok') else 'NOT OK'}")
        for name, status in sorted(payload.get("services", {}).items()):
            mark = "ok" if status.get("ok", True) else "FAILING"
            click.echo(f"  {name}: {mark}")
        errors = payload.get("plugins", {}).get("errors", [])
        for error in errors:
            click.echo(f"  plugin {error.get('name')}: {error.get('reason')}")
    if not payload.get("ok"):
        raise SystemExit(1)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="The raw status payload.")
@client_options
@pass_state
def status_command(
    state: CliState, as_json: bool, url: str | None, token: str | None, password: str | None
) -> None:
    """Show what the running gateway is doing."""
    where, opts = target(state, url, token, password)
    payload = run_client(where, opts, lambda c: c.call("status"))
    if as_json:
        _print(payload)
        return
    gw = payload.get("gateway") or {}
    rss = payload.get("processMemory", {}).get("rssBytes", 0)
    click.echo(f"moltbot {payload.get('runtimeVersion')} (pid {payload.get('pid')}) at {where}")
    click.echo(
        f"  {gw.get('state')}, auth {gw.get('authMode')}, {gw.get('connections')} client(s),"
        f" up {gw.get('uptimeMs', 0) // 1000} s, RSS {rss >> 20} MB"
    )
    click.echo(f"  config: {payload.get('configPath')}")
    for name, status in sorted(payload.get("services", {}).items()):
        click.echo(f"  {name}: {json.dumps(status, ensure_ascii=False)}")


_LEVELS = ("debug", "info", "warn", "warning", "error", "critical")


def _format_line(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    when = str(record.get("time", ""))[11:19]
    return f"{when} {str(record.get('level', '')).upper():<7} {record.get('message', '')}"


@click.command("logs")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines.")
@click.option("--json", "as_json", is_flag=True, help="Print each record as one JSON line.")
@click.option("--level", type=click.Choice(_LEVELS), help="Minimum level.")
@click.option("--limit", type=click.IntRange(1, 5000), default=200, show_default=True)
@client_options
@pass_state
def logs_command(
    state: CliState,
    follow: bool,
    as_json: bool,
    level: str | None,
    limit: int,
    url: str | None,
    token: str | None,
    password: str | None,
) -> None:
    """Print the running gateway's recent log lines (through the logs.tail method)."""
    where, opts = target(state, url, token, password)

    async def work(client: GatewayClient) -> None:
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            if level:
                params["level"] = level
            result = await client.call("logs.tail", params)
            if result.get("reset") and cursor is not None:
                click.echo("-- log file rotated --", err=True)
            if result.get("truncated"):
                click.echo("-- earlier lines skipped --", err=True)
            for line in result.get("lines", []):
                click.echo(line if as_json else _format_line(line))
            cursor = result.get("cursor", cursor)
            if not follow:
                return
            await trio.sleep(1)

    try:
        run_client(where, opts, work)
    except KeyboardInterrupt:
        return

"""``moltbot sessions``: list, show and inspect conversation sessions straight from disk.

Works without a running gateway: it reads the index and transcripts, takes no locks and writes
nothing (the gateway repairs what it finds on its next start).
"""

from __future__ import annotations

import json
from typing import Any

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.sessions.entries import Entry
from moltbot.sessions.keys import InvalidSessionKey
from moltbot.sessions.views import Found, inspect, list_sessions, read_entries, resolve


@click.group("sessions")
def sessions_command() -> None:
    """List and inspect conversation sessions (reads the state dir; no gateway needed)."""


@sessions_command.command("list")
@click.option("--agent", help="Only this agent's sessions.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def list_command(state: CliState, agent: str | None, as_json: bool) -> None:
    """Every conversation's current session, most recently used first."""
    rows = list_sessions(state.paths.state_dir, agent)
    if as_json:
        click.echo(json.dumps({"sessions": [{"agentId": a, **m.to_json()} for a, m in rows]}, indent=2))
        return
    if not rows:
        click.echo(f"no sessions under {state.paths.state_dir / 'agents'}")
        return
    for _agent, meta in rows:
        click.echo(
            f"{meta.key}  {meta.session_id[:8]}  {meta.updated_at[:19].replace('T', ' ')}  "
            f"{meta.message_count} msgs  {meta.total_tokens} tokens"
            + (f"  {meta.model}" if meta.model else "")
        )


def _find(state: CliState, ref: str) -> Found:
    try:
        found = resolve(state.paths.state_dir, ref)
    except InvalidSessionKey as exc:
        raise click.ClickException(f"{exc}; pass a session key (agent:...) or a session id") from None
    if found is None:
        raise click.ClickException(f"no session {ref!r} (see `moltbot sessions list`)")
    return found


@sessions_command.command("show")
@click.argument("ref")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Last N entries.")
@click.option("--json", "as_json", is_flag=True, help="The entries as JSON.")
@pass_state
def show_command(state: CliState, ref: str, limit: int, as_json: bool) -> None:
    """The last entries of a session, by key or session id."""
    found = _find(state, ref)
    entries = read_entries(found, limit)
    if as_json:
        click.echo(json.dumps({"session": found.header, "entries": entries}, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{found.header['key']}  session {found.header['id']}" + ("" if found.current else "  (ended)")
    )
    for entry in entries:
        click.echo(_line(entry))


def _line(entry: Entry) -> str:
    time = str(entry.get("timestamp", ""))[11:19]
    kind = entry.get("type")
    if kind == "message":
        text = str(entry.get("content", ""))
        calls = ", ".join(
            f"{c.get('name')}({json.dumps(c.get('arguments'))})" for c in entry.get("toolCalls", [])
        )
        return f"{time} {entry.get('role')}: {text}" + (f" -> {calls}" if calls else "")
    if kind == "toolResult":
        flag = " (error)" if entry.get("isError") else ""
        return f"{time} tool {entry.get('name')}{flag}: {_clip(str(entry.get('content', '')))}"
    if kind == "compaction":
        return f"{time} -- summary of {entry.get('tokensBefore')} tokens: {_clip(str(entry.get('summary')))}"
    if kind == "usage":
        cost = f", ${entry['cost']:.4f}" if entry.get("cost") else ""
        return f"{time} usage: {entry.get('inputTokens')} in / {entry.get('outputTokens')} out{cost}"
    if kind == "reset":
        return f"{time} -- reset ({entry.get('reason')}), continued in {entry.get('nextSessionId')}"
    return f"{time} {kind}"


def _clip(text: str, width: int = 200) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@sessions_command.command("inspect")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def inspect_command(state: CliState, ref: str, as_json: bool) -> None:
    """Size, last modified, message and token counts and metadata of one session."""
    report: dict[str, Any] = inspect(_find(state, ref))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for name, value in report.items():
        if name != "metadata":
            click.echo(f"{name}: {value}")
    meta = report.get("metadata", {})
    for name in ("createdAt", "updatedAt", "model", "channel", "inputTokens", "outputTokens", "cost"):
        click.echo(f"{name}: {meta.get(name)}")

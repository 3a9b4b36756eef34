"""``moltbot debug trace <session> [--run <id>]``: the persisted traces of a session's runs.

Reads ``<state>/agents/<agentId>/traces/<sessionId>.jsonl`` directly, so it works without a
running gateway (and on a copy of the state dir).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from moltbot.agent.trace import read_traces, traces_dir
from moltbot.cli.state import CliState, pass_state
from moltbot.sessions.keys import InvalidSessionKey
from moltbot.sessions.views import resolve


def _key(ref: str) -> str:
    if ref == "main":
        return "agent:main:main"
    return ref


@click.command("trace")
@click.argument("session")
@click.option("--run", "run_id", help="Show one run's events (a run id or a unique prefix).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Runs listed.")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout.")
@pass_state
def trace_command(state: CliState, session: str, run_id: str | None, limit: int, as_json: bool) -> None:
    """Timing of a session's agent runs: model time, tool time, tokens, events.

    SESSION is a session key (agent:main:main, or just "main") or a session id.
    """
    try:
        found = resolve(state.paths.state_dir, _key(session))
    except InvalidSessionKey as exc:
        raise click.BadParameter(str(exc), param_hint="SESSION") from None
    if found is None:
        raise click.ClickException(f"no session {session!r} under {state.paths.state_dir}")
    traces = read_traces(traces_dir(state.paths.state_dir, found.agent_id), found.header["id"])
    if run_id:
        matches = [t for t in traces if str(t.get("runId", "")).startswith(run_id)]
        if len(matches) != 1:
            raise click.ClickException(
                f"{'no' if not matches else 'several'} runs match {run_id!r} in session {found.header['id']}"
            )
        trace = matches[0]
        click.echo(json.dumps(trace, indent=2) if as_json else render_run(trace))
        return
    traces = traces[-limit:]
    if as_json:
        click.echo(json.dumps({"sessionId": found.header["id"], "runs": traces}, indent=2))
        return
    if not traces:
        click.echo(f"no traced runs in session {found.header['id']} ({found.header['key']})")
        return
    click.echo(f"{found.header['key']}  session {found.header['id']}")
    click.echo(
        f"{'run':<10} {'started':<20} {'status':<8} {'total ms':>9} {'model ms':>9} {'tool ms':>8} tokens"
    )
    for trace in traces:
        perf = trace.get("performance", {})
        tokens = trace.get("tokens", {})
        click.echo(
            f"{str(trace.get('runId'))[:8]:<10} {_when(trace.get('startTime')):<20}"
            f" {trace.get('status', ''):<8}"
            f" {perf.get('totalDuration', 0):>9.1f} {perf.get('modelCallTime', 0):>9.1f}"
            f" {perf.get('toolExecutionTime', 0):>8.1f} {tokens.get('input', 0)}/{tokens.get('output', 0)}"
        )


def _when(ms: Any) -> str:
    try:
        return datetime.fromtimestamp(int(ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return "?"


def render_run(trace: dict[str, Any]) -> str:
    perf = trace.get("performance", {})
    lines = [
        f"run {trace.get('runId')}  {trace.get('status')} ({trace.get('stopReason')})"
        + (f"  error: {trace['error']}" if trace.get("error") else ""),
        f"started {_when(trace.get('startTime'))} UTC; total {perf.get('totalDuration')} ms, model"
        f" {perf.get('modelCallTime')} ms ({trace.get('modelCalls')} calls), tools"
        f" {perf.get('toolExecutionTime')} ms ({trace.get('toolCalls')} calls),"
        f" overhead {perf.get('overhead')} ms",
        f"tokens {trace.get('tokens', {}).get('input')} in / {trace.get('tokens', {}).get('output')} out,"
        f" cost ${trace.get('costUsd', 0):.4f}",
    ]
    for event in trace.get("events", []):
        detail = {k: v for k, v in event.items() if k not in ("t", "type")}
        lines.append(f"  {event.get('t', 0):>9.1f} ms  {event.get('type'):<10} {json.dumps(detail)[:160]}")
    if trace.get("droppedEvents"):
        lines.append(f"  ... {trace['droppedEvents']} more events not kept")
    return "\n".join(lines)

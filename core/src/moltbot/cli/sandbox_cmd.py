"""``moltbot sandbox explain``: the effective tools of a session and the reason for each."""

from __future__ import annotations

import json
import shutil

import click

from moltbot.cli.state import CliState, pass_state


@click.group("sandbox")
def sandbox_command() -> None:
    """Inspect the sandbox and tool policy."""


@sandbox_command.command("explain")
@click.option("--agent", "agent_id", default="main", show_default=True, help="Agent id.")
@click.option(
    "--session", "session_key", default=None, help="Session key (default: the agent's main session)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def explain(state: CliState, agent_id: str, session_key: str | None, as_json: bool) -> None:
    """Print whether SESSION is sandboxed and which tools it may use, with the reason for each."""
    from moltbot.tools import build_tools, main_session_key, resolve_policy

    settings = state.settings()
    session_key = session_key or main_session_key(agent_id)
    tools = build_tools(state.plugins.tools(), settings, state.paths.state_dir)
    policy = resolve_policy(
        settings, {n: t.group for n, t in tools.items()}, agent_id=agent_id, session_key=session_key
    )
    bwrap = shutil.which("bwrap")
    approvals = settings.tools.exec
    if as_json:
        exec_json = {"security": approvals.security, "ask": approvals.ask, "allowlist": approvals.allowlist}
        click.echo(json.dumps({**policy.to_json(), "bwrap": bwrap, "exec": exec_json}, indent=2))
        return
    click.echo(f"session  {policy.session_key} (agent {policy.agent_id})")
    click.echo(f"sandbox  {'yes' if policy.sandboxed else 'no'}: {policy.sandbox_reason}")
    click.echo(
        f"exec     security={approvals.security} ask={approvals.ask}"
        f" ({len(approvals.allowlist)} allowlist entries in tools.exec.allowlist)"
    )
    if policy.sandboxed:
        click.echo(f"bwrap    {bwrap or 'NOT FOUND: sandboxed exec will be refused (install bubblewrap)'}")
    width = max((len(d.name) for d in policy.decisions), default=4)
    for decision in policy.decisions:
        mark = "allow" if decision.allowed else "deny "
        click.echo(f"  {mark}  {decision.name:<{width}}  {decision.reason}")
    if not policy.decisions:
        click.echo("  (no tools are installed)")

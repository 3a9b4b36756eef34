"""Chat commands, answered before (and without) the model: ``/new``, ``/status``, ``/stop``...

A message is a command only when it starts with one of the names below; anything else,
``/etc/hosts please`` included, goes to the model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from moltbot.agent.lanes import QUEUE_MODES
from moltbot.errors import ConfigError
from moltbot.models.refs import candidates, resolve

if TYPE_CHECKING:
    from moltbot.agent.runtime import AgentRuntime

HELP = """Commands:
/new, /reset — start a fresh conversation
/status — model, session and queue state
/stop — abort the running reply and drop queued messages
/model [<ref>|default] — show or pick this session's model
/queue [steer|followup|collect|interrupt] — what a message does while a reply runs
/compact [focus] — summarize older messages now
/usage — tokens and cost of this session
/approve <id> allow-once|allow-always|deny — answer an exec approval
/help — this list"""


@dataclass(frozen=True)
class Command:
    name: str
    args: str


def parse_command(text: str) -> Command | None:
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.lower()
    if name not in HANDLERS:
        return None
    return Command(name, rest.strip())


async def _reset(rt: AgentRuntime, key: str, args: str) -> str:
    await rt.abort(key)
    session = await rt.reset_session(key, "manual")
    return f"New session started ({session.id[:8]})."


async def _stop(rt: AgentRuntime, key: str, args: str) -> str:
    aborted = await rt.abort(key)
    return (
        f"Stopped ({len(aborted)} run{'s' if len(aborted) != 1 else ''})."
        if aborted
        else "Nothing is running."
    )


async def _status(rt: AgentRuntime, key: str, args: str) -> str:
    info = await rt.session_info(key)
    lines = [
        f"Session: {key} ({(info.get('sessionId') or 'new')[:8]})",
        f"Model: {info.get('model') or 'not configured'}"
        + (" (picked with /model)" if info.get("modelOverride") else ""),
        f"Messages: {info.get('messageCount', 0)}, tokens: {info.get('totalTokens', 0)}"
        f" (context ~{info.get('contextTokens', 0)} of {info.get('contextWindow')})",
        f"Queue: {info['queueMode']}, running: {'yes' if info.get('running') else 'no'},"
        f" waiting: {info.get('queued', 0)}",
    ]
    return "\n".join(lines)


async def _model(rt: AgentRuntime, key: str, args: str) -> str:
    settings = rt.app.settings
    if not args:
        current = rt.overrides(key).value(key, "model")
        default = [str(r) for r in candidates(settings)]
        return (
            f"Model: {current or (default[0] if default else 'not configured')}"
            + (" (picked with /model)" if current else "")
            + "\nPick one with /model <provider/model or alias>, or /model default."
        )
    if args in ("default", "reset"):
        await rt.set_override(key, model=None)
        return "Back to the configured model."
    try:
        ref = resolve(args, settings)
    except (ValueError, ConfigError) as exc:
        return f"Not a model reference: {exc}"
    if ref.provider not in rt.providers():
        known = ", ".join(sorted(rt.providers())) or "none"
        return f"No provider {ref.provider!r} is configured (known: {known})."
    await rt.set_override(key, model=str(ref))
    return f"Model for this session: {ref}."


async def _queue(rt: AgentRuntime, key: str, args: str) -> str:
    if not args:
        return f"Queue mode: {rt.queue_mode(key)}."
    if args not in QUEUE_MODES:
        return f"Unknown queue mode {args!r}; use one of {', '.join(QUEUE_MODES)}."
    await rt.set_override(key, queueMode=args)
    return f"Queue mode for this session: {args}."


async def _compact(rt: AgentRuntime, key: str, args: str) -> str:
    stored = await rt.compact(key, instructions=args or None)
    if stored is None:
        return "Nothing to compact yet."
    return f"Compacted: {stored['tokensBefore']} tokens of context summarized."


async def _usage(rt: AgentRuntime, key: str, args: str) -> str:
    info = await rt.session_info(key)
    cost = info.get("costUsd") or 0.0
    return (
        f"Session tokens: {info.get('inputTokens', 0)} in, {info.get('outputTokens', 0)} out"
        f"; cost ${cost:.4f}"
        + (f"; last run: {info['lastRunTokens']} tokens" if info.get("lastRunTokens") else "")
    )


async def _approve(rt: AgentRuntime, key: str, args: str) -> str:
    parts = args.split()
    if len(parts) != 2 or parts[1] not in ("allow-once", "allow-always", "deny"):
        return "Usage: /approve <id> allow-once|allow-always|deny"
    registry = rt.app.services.get("approvals")
    if registry is None:
        return "Approvals are not available in this process."
    try:
        registry.resolve(parts[0], parts[1])
    except KeyError:
        return f"No pending approval {parts[0]!r} (unknown, answered or expired)."
    return f"Approval {parts[0]}: {parts[1]}."


async def _help(rt: AgentRuntime, key: str, args: str) -> str:
    return HELP


Handler = Callable[["AgentRuntime", str, str], Awaitable[str]]
HANDLERS: dict[str, Handler] = {
    "new": _reset,
    "reset": _reset,
    "stop": _stop,
    "status": _status,
    "model": _model,
    "queue": _queue,
    "compact": _compact,
    "usage": _usage,
    "approve": _approve,
    "help": _help,
}


async def run_command(rt: AgentRuntime, key: str, command: Command) -> str:
    return await HANDLERS[command.name](rt, key, command.args)

"""The system prompt: a few fixed lines, the workspace bootstrap files, and the date and time.

Deliberately lean (OpenClaw sends ~50,000 characters for "hi"): tool descriptions travel as
the request's tool schemas, so the prompt only names the tools instead of repeating them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from moltbot.agent.workspace import BootstrapFile

_HEAD = (
    "You are a personal assistant running inside moltbot, on the user's own machine.\n"
    "Your workspace is {workspace}; its files below define who you are and how you work."
)


def system_prompt(
    *,
    workspace: str,
    files: Sequence[BootstrapFile],
    tool_names: Sequence[str],
    now: datetime,
    session_key: str,
) -> str:
    parts = [_HEAD.format(workspace=workspace)]
    if tool_names:
        parts.append(
            "Tools: " + ", ".join(tool_names) + ". Call them when they help; a tool error is "
            "information, not a reason to stop."
        )
    else:
        parts.append("No tools are available in this session.")
    for item in files:
        parts.append(f"## {item.name}\n{item.text}")
    parts.append(f"Now: {now.strftime('%Y-%m-%d %H:%M %Z (%A)').strip()}. Session: {session_key}.")
    return "\n\n".join(parts)

"""Small wire helpers shared by provider plugins."""

from __future__ import annotations

import json

from moltbot.interfaces.provider import ToolCall


def tool_call(call_id: str, name: str, arguments: str) -> ToolCall:
    """A finished tool call from its streamed argument text; text that is not a JSON object is
    kept in ``raw_arguments`` so the agent loop can tell the model instead of guessing."""
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return ToolCall(id=call_id, name=name, arguments=parsed)
    return ToolCall(id=call_id, name=name, arguments={}, raw_arguments=arguments)

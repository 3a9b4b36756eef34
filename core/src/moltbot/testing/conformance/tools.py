"""Conformance suite for tools."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from moltbot.interfaces import (
    Tool,
    ToolContext,
    ToolResult,
)


class ToolConformance:
    """Provide fixtures ``tool``, ``tool_context``, ``valid_params`` and ``invalid_params``.

    ``valid_params`` must succeed in ``tool_context`` (an error result fails the test);
    ``invalid_params`` must fail validation. Calls go through :func:`moltbot.tools.invoke_tool`,
    as the agent loop makes them.
    """

    async def test_describes_itself(self, tool: Tool) -> None:
        from moltbot.tools import tool_schema

        assert re.fullmatch(r"[a-z][a-z0-9_]*", tool.name)
        assert tool.description.strip()
        schema = tool_schema(tool).parameters
        assert schema.get("type") == "object"
        json.dumps(schema)  # it goes to the model as JSON
        assert tool.group is None or tool.group.startswith("group:")

    async def test_runs_with_valid_params(
        self, tool: Tool, tool_context: ToolContext, valid_params: dict[str, Any]
    ) -> None:
        from moltbot.tools import invoke_tool

        result = await invoke_tool(tool, tool_context, valid_params)
        assert isinstance(result, ToolResult)
        assert not result.is_error, result.text
        again = await invoke_tool(tool, tool_context, json.dumps(valid_params))  # JSON text works too
        assert isinstance(again, ToolResult)

    async def test_rejects_invalid_params(
        self, tool: Tool, tool_context: ToolContext, invalid_params: dict[str, Any]
    ) -> None:
        from moltbot.tools import invoke_tool

        with pytest.raises(ValidationError):
            tool.parameters.model_validate(invalid_params)
        result = await invoke_tool(tool, tool_context, invalid_params)
        assert result.is_error and "invalid arguments" in result.text

    async def test_malformed_arguments_are_error_results(self, tool: Tool, tool_context: ToolContext) -> None:
        from moltbot.tools import invoke_tool

        for raw in ("{not json", "[1, 2]", '{"no_such_argument_anywhere": 1}'):
            result = await invoke_tool(tool, tool_context, raw)
            assert result.is_error, f"{raw!r} was accepted"

"""Calling a tool with the model's raw arguments: every outcome is a :class:`ToolResult`.

The agent loop never sees an exception from a tool call except ``trio.Cancelled``: invalid
arguments, a :class:`ToolError` and unexpected bugs all come back as error results the model can
read (bugs are logged with their traceback).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from loguru import logger
from pydantic import ValidationError

from moltbot.interfaces.provider import ToolSchema
from moltbot.interfaces.tool import Tool, ToolContext, ToolError, ToolResult


def tool_schema(tool: Tool) -> ToolSchema:
    """What the model is told about ``tool``: its name, description and JSON Schema."""
    schema = tool.parameters.model_json_schema()
    schema.pop("title", None)
    return ToolSchema(name=tool.name, description=tool.description, parameters=schema)


def tool_schemas(tools: Iterable[Tool]) -> tuple[ToolSchema, ...]:
    return tuple(tool_schema(t) for t in tools)


def describe_validation_error(exc: ValidationError) -> str:
    """``command: Field required; timeout: Input should be a valid number`` (field names first)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def _parse_arguments(raw: dict[str, Any] | str | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ToolError(f"the arguments are not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(raw, dict):
        raise ToolError(f"the arguments must be a JSON object, not {type(raw).__name__}")
    return raw


async def invoke_tool(tool: Tool, ctx: ToolContext, arguments: dict[str, Any] | str | None) -> ToolResult:
    """Validate ``arguments`` against ``tool.parameters``, run the tool, and wrap the outcome."""
    try:
        params = tool.parameters.model_validate(_parse_arguments(arguments))
    except ToolError as exc:
        return ToolResult(text=f"{tool.name}: {exc}", is_error=True)
    except ValidationError as exc:
        return ToolResult(
            text=f"{tool.name}: invalid arguments: {describe_validation_error(exc)}", is_error=True
        )
    try:
        result = await tool.run(ctx, params)
    except ToolError as exc:
        return ToolResult(text=f"{tool.name}: {exc}", is_error=True)
    except Exception as exc:
        logger.opt(exception=exc).error(
            "tool {} raised unexpectedly (a bug in the tool) [session={}]", tool.name, ctx.session_key
        )
        return ToolResult(
            text=f"{tool.name} failed with an internal error ({type(exc).__name__}: {exc})", is_error=True
        )
    if isinstance(result, str):
        return ToolResult(text=result)
    return result

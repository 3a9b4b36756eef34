"""invoke_tool: whatever the model sends or the tool does, the agent loop gets a ToolResult."""

from typing import Any

import pytest
import trio
from pydantic import BaseModel

from moltbot.interfaces.tool import Tool, ToolContext, ToolError, ToolResult
from moltbot.tools import invoke_tool, tool_schema


class Args(BaseModel):
    count: int
    label: str = "x"


class Scripted(Tool):
    name = "scripted"
    description = "does what the test says"
    parameters = Args

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    async def run(self, ctx: ToolContext, params: Args) -> ToolResult | str:
        await trio.lowlevel.checkpoint()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


async def test_text_and_results_pass_through(host):
    assert (await invoke_tool(Scripted("done"), host, {"count": 1})).text == "done"
    parts = ToolResult(text="img", parts=({"type": "image", "data": "..."},))
    assert await invoke_tool(Scripted(parts), host, '{"count": 2}') is parts


async def test_invalid_arguments_name_the_field(host):
    result = await invoke_tool(Scripted("x"), host, {"count": "many"})
    assert result.is_error and "invalid arguments: count:" in result.text
    missing = await invoke_tool(Scripted("x"), host, {})
    assert missing.is_error and "count: Field required" in missing.text


async def test_bad_json_is_reported(host):
    result = await invoke_tool(Scripted("x"), host, '{"count": ')
    assert result.is_error and "not valid JSON" in result.text
    assert "must be a JSON object" in (await invoke_tool(Scripted("x"), host, "[1]")).text


async def test_tool_errors_and_bugs_become_error_results(host):
    failed = await invoke_tool(Scripted(ToolError("disk full")), host, {"count": 1})
    assert failed.is_error and failed.text == "scripted: disk full"
    bug = await invoke_tool(Scripted(ZeroDivisionError("oops")), host, {"count": 1})
    assert bug.is_error and "internal error (ZeroDivisionError: oops)" in bug.text


async def test_cancellation_still_propagates(host):
    with trio.CancelScope() as scope:
        scope.cancel()
        await invoke_tool(Scripted("never"), host, {"count": 1})
        pytest.fail("the cancelled call returned")
    assert scope.cancelled_caught


def test_schema_for_the_model():
    schema = tool_schema(Scripted("x"))
    assert schema.name == "scripted"
    assert schema.parameters["required"] == ["count"] and "title" not in schema.parameters

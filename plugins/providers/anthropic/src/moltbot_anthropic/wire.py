"""Our chat records to a Messages API request body, and its SSE events back to ours."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from moltbot.interfaces.provider import (
    ChatMessage,
    Done,
    ModelRequest,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCallEvent,
    Usage,
)
from moltbot.models.errors import classify
from moltbot.models.sse import SseEvent
from moltbot.models.wire import tool_call

_STOP = {"end_turn": "end", "stop_sequence": "end", "tool_use": "tool_calls", "max_tokens": "max_tokens"}


def blocks_of(message: ChatMessage) -> list[dict[str, Any]]:
    """The content blocks of one message; empty text blocks are left out (the API rejects them)."""
    if message.role == "tool":
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
        ]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in message.tool_calls
    ]
    return blocks


def request_body(request: ModelRequest, max_tokens: int) -> dict[str, Any]:
    """The streamed Messages request: system text at the top level, tool results in user turns,
    and consecutive turns of the same role merged into one."""
    system = [request.system] if request.system else []
    turns: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            system.append(message.content)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = blocks_of(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or max_tokens,
        "messages": turns,
        "stream": True,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


async def parse_stream(events: AsyncIterator[SseEvent], provider: str) -> AsyncIterator[StreamEvent]:
    """Text as it streams, each tool call when its block stops, then usage and one Done. A
    stream without ``message_stop`` is an error; an ``error`` event is classified."""
    tools: dict[int, dict[str, Any]] = {}
    counts = {"input": 0, "output": 0, "read": 0, "write": 0}
    stop: str | None = None
    async for event in events:
        data = event.json(provider)
        if not isinstance(data, dict):
            raise ProviderError(
                "unknown", f"{provider} sent a malformed event", details={"data": event.data[:500]}
            )
        kind = data.get("type") or event.event
        if kind == "error":
            raise classify(None, data, provider=provider)
        if kind == "message_start":
            _count(counts, (data.get("message") or {}).get("usage"))
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                tools[data.get("index", 0)] = {**block, "json": ""}
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield TextDelta(str(delta["text"]))
            elif delta.get("type") == "input_json_delta" and data.get("index") in tools:
                tools[data["index"]]["json"] += delta.get("partial_json") or ""
        elif kind == "content_block_stop" and data.get("index") in tools:
            block = tools.pop(data["index"])
            text = block["json"] or _json_text(block.get("input"))
            yield ToolCallEvent(tool_call(str(block.get("id") or ""), str(block.get("name") or ""), text))
        elif kind == "message_delta":
            stop = (data.get("delta") or {}).get("stop_reason") or stop
            _count(counts, data.get("usage"))
        elif kind == "message_stop":
            break
    else:
        raise ProviderError("unknown", f"{provider} ended the stream before message_stop")
    yield Usage(
        counts["input"],
        counts["output"],
        cache_read_tokens=counts["read"],
        cache_write_tokens=counts["write"],
    )
    yield Done(_STOP.get(stop or "end_turn", "other"))  # type: ignore[arg-type]


def _count(counts: dict[str, int], usage: Any) -> None:
    """Usage fields are cumulative: a later event's value replaces the earlier one."""
    if not isinstance(usage, dict):
        return
    for ours, theirs in (
        ("input", "input_tokens"),
        ("output", "output_tokens"),
        ("read", "cache_read_input_tokens"),
        ("write", "cache_creation_input_tokens"),
    ):
        if isinstance(usage.get(theirs), int):
            counts[ours] = usage[theirs]


def _json_text(value: Any) -> str:
    return json.dumps(value) if value else ""

"""Our chat records to the Chat Completions request body, and its SSE chunks back to events."""

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

_STOP = {"stop": "end", "tool_calls": "tool_calls", "function_call": "tool_calls", "length": "max_tokens"}


def message_to_wire(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.raw_arguments or json.dumps(call.arguments),
                },
            }
            for call in message.tool_calls
        ]
        return {"role": "assistant", "content": message.content or None, "tool_calls": calls}
    return {"role": message.role, "content": message.content}


def request_body(request: ModelRequest) -> dict[str, Any]:
    """The streamed Chat Completions request for ``request``."""
    messages = [{"role": "system", "content": request.system}] if request.system else []
    messages += [message_to_wire(m) for m in request.messages]
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
            }
            for t in request.tools
        ]
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def usage_of(data: dict[str, Any]) -> Usage:
    """OpenAI's ``prompt_tokens`` include cached ones; ours count them apart (priced apart)."""
    cached = int((data.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
    prompt = int(data.get("prompt_tokens") or 0)
    return Usage(max(0, prompt - cached), int(data.get("completion_tokens") or 0), cache_read_tokens=cached)


async def parse_stream(events: AsyncIterator[SseEvent], provider: str) -> AsyncIterator[StreamEvent]:
    """Text deltas as they come; tool calls (fragments joined by index), usage and one Done
    at the end. A stream that stops before ``[DONE]`` and without a finish reason is an error."""
    calls: dict[int, dict[str, str]] = {}
    finish: str | None = None
    usage: Usage | None = None
    done = False
    async for event in events:
        if event.data.strip() == "[DONE]":
            done = True
            break
        chunk = event.json(provider)
        if not isinstance(chunk, dict):
            raise ProviderError(
                "unknown", f"{provider} sent a malformed chunk", details={"data": event.data[:500]}
            )
        if chunk.get("error"):
            code = chunk["error"].get("code") if isinstance(chunk["error"], dict) else None
            raise classify(code if isinstance(code, int) else None, chunk, provider=provider)
        if isinstance(chunk.get("usage"), dict):
            usage = usage_of(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                yield TextDelta(str(delta["content"]))
            for position, fragment in enumerate(delta.get("tool_calls") or []):
                index = fragment.get("index", position)
                slot = calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
                function = fragment.get("function") or {}
                slot["id"] = fragment.get("id") or slot["id"]
                slot["name"] = function.get("name") or slot["name"]
                arguments = function.get("arguments") or ""
                slot["arguments"] += arguments if isinstance(arguments, str) else json.dumps(arguments)
            if choice.get("finish_reason"):
                finish = str(choice["finish_reason"])
    if not done and finish is None:
        raise ProviderError("unknown", f"{provider} ended the stream before it was complete")
    for index in sorted(calls):
        slot = calls[index]
        yield ToolCallEvent(tool_call(slot["id"] or f"call_{index}", slot["name"], slot["arguments"]))
    if usage is not None:
        yield usage
    yield Done(_STOP.get(finish or "stop", "other") if not calls else "tool_calls")

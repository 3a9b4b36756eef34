"""Conformance suite for model providers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import trio

from moltbot.interfaces import (
    Done,
    ModelProvider,
    ModelRequest,
    ProviderError,
    TextDelta,
)
from moltbot.interfaces.provider import ChatMessage, StreamEvent, ToolCallEvent, ToolSchema, Usage
from moltbot.testing.conformance._common import DEADLINE


@dataclass
class ProviderHarness:
    provider: ModelProvider
    model: str
    reply_with: Callable[[str], None]
    """Make the (fake) server answer the next request with this text."""
    fail_auth: Callable[[], None]
    """Make the (fake) server reject the next request's credentials."""
    reply_with_tool_call: Callable[[str, str, str], None] | None = None
    """``(call id, tool name, JSON arguments)``: the next answer is that tool call, its
    arguments streamed in several fragments. None skips the tool-call tests."""
    rate_limit: Callable[[float], None] | None = None
    """The next answer is a rate limit asking to retry after this many seconds."""
    overloaded: Callable[[], None] | None = None
    """The next answer says the server is overloaded."""
    malformed: Callable[[], None] | None = None
    """The next answer is a stream that breaks off with a malformed event."""


def _hi(harness: ProviderHarness) -> ModelRequest:
    return ModelRequest(model=harness.model, messages=(ChatMessage(role="user", content="hi"),))


async def _collect(harness: ProviderHarness, request: ModelRequest | None = None) -> list[StreamEvent]:
    with trio.fail_after(DEADLINE):
        return [e async for e in harness.provider.stream(request or _hi(harness))]


async def _error_kind(harness: ProviderHarness) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await _collect(harness)
    return info.value


class ModelProviderConformance:
    """Provide an async ``provider_harness`` fixture returning a :class:`ProviderHarness`."""

    async def test_streams_text_and_ends_with_one_done(self, provider_harness: ProviderHarness) -> None:
        provider_harness.reply_with("conformance says hi")
        events = await _collect(provider_harness)
        assert isinstance(events[-1], Done)
        assert sum(isinstance(e, Done) for e in events) == 1
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "conformance says hi"
        assert events[-1].stop_reason == "end"

    async def test_usage_is_reported_once(self, provider_harness: ProviderHarness) -> None:
        provider_harness.reply_with("counted")
        usages = [e for e in await _collect(provider_harness) if isinstance(e, Usage)]
        assert len(usages) <= 1
        assert all(u.input_tokens >= 0 and u.output_tokens >= 0 for u in usages)

    async def test_auth_failure_is_classified(self, provider_harness: ProviderHarness) -> None:
        provider_harness.fail_auth()
        assert (await _error_kind(provider_harness)).kind == "auth"

    async def test_tool_call_arguments_are_reassembled(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.reply_with_tool_call is None:
            pytest.skip("the harness cannot script tool calls")
        arguments = '{"city": "Paris", "days": [1, 2, 3], "note": "naïve \\"quote\\""}'
        provider_harness.reply_with_tool_call("call_conf_1", "get_weather", arguments)
        weather = ToolSchema(
            name="get_weather",
            description="Weather for a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        )
        request = ModelRequest(
            model=provider_harness.model,
            messages=(ChatMessage(role="user", content="weather?"),),
            tools=(weather,),
        )
        events = await _collect(provider_harness, request)
        calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
        assert [(c.id, c.name) for c in calls] == [("call_conf_1", "get_weather")]
        assert calls[0].arguments == json.loads(arguments)
        assert isinstance(events[-1], Done) and events[-1].stop_reason == "tool_calls"

    async def test_rate_limit_carries_retry_after(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.rate_limit is None:
            pytest.skip("the harness cannot script rate limits")
        provider_harness.rate_limit(7)
        error = await _error_kind(provider_harness)
        assert error.kind == "rate_limit"
        assert error.retry_after == pytest.approx(7)

    async def test_overload_is_classified(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.overloaded is None:
            pytest.skip("the harness cannot script overload")
        provider_harness.overloaded()
        assert (await _error_kind(provider_harness)).kind == "overloaded"

    async def test_malformed_stream_is_an_error_not_a_hang(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.malformed is None:
            pytest.skip("the harness cannot script malformed streams")
        provider_harness.malformed()
        assert (await _error_kind(provider_harness)).kind == "unknown"

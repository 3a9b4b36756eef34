"""Error classification, Retry-After parsing, SSE parsing, tool-call arguments and usage/cost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from moltbot.interfaces.provider import ProviderError, ToolCall, Usage
from moltbot.models.config import ModelCostConfig
from moltbot.models.errors import classify, retry_after
from moltbot.models.refs import ModelRef
from moltbot.models.sse import SseEvent, iter_sse
from moltbot.models.usage import UsageRecord, UsageTotals, cost, record
from moltbot.models.wire import tool_call


def openai_error(code: str, message: str = "m", etype: str = "invalid_request_error") -> dict[str, object]:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def anthropic_error(etype: str, message: str = "m") -> dict[str, object]:
    return {"type": "error", "error": {"type": etype, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, openai_error("invalid_api_key"), "auth"),
        (403, anthropic_error("permission_error"), "auth"),
        (402, {}, "billing"),
        (
            429,
            openai_error("insufficient_quota", "You exceeded your current quota", "insufficient_quota"),
            "billing",
        ),
        (429, openai_error("rate_limit_exceeded", etype="requests"), "rate_limit"),
        (429, anthropic_error("rate_limit_error"), "rate_limit"),
        (529, anthropic_error("overloaded_error"), "overloaded"),
        (503, {}, "overloaded"),
        (500, openai_error("server_error", etype="server_error"), "overloaded"),
        (504, {}, "timeout"),
        (400, openai_error("context_length_exceeded"), "context_overflow"),
        (
            400,
            anthropic_error("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
            "context_overflow",
        ),
        (413, anthropic_error("request_too_large"), "context_overflow"),
        (400, anthropic_error("invalid_request_error", "messages: field required"), "bad_request"),
        (404, openai_error("model_not_found"), "bad_request"),
        (None, anthropic_error("overloaded_error"), "overloaded"),
        (None, {"weird": True}, "unknown"),
    ],
)
def test_classification(status: int | None, body: dict[str, object], kind: str) -> None:
    error = classify(status, body, provider="p")
    assert isinstance(error, ProviderError) and error.kind == kind and error.status == status


def test_retry_after_forms() -> None:
    assert retry_after({"Retry-After": "12"}) == 12
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert retry_after({"retry-after": later}) == pytest.approx(30, abs=2)
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after(None) is None
    assert classify(429, {}, {"retry-after": "3"}).retry_after == 3


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def test_sse_events_comments_multiline_and_unterminated() -> None:
    events = [
        e
        async for e in iter_sse(
            _lines(
                ": keep-alive",
                "event: ping",
                'data: {"type":"ping"}',
                "",
                "data: a",
                "data: b",
                "",
                "data: lost",
            )
        )
    ]
    assert events == [SseEvent("ping", '{"type":"ping"}'), SseEvent("message", "a\nb")]


def test_malformed_event_data_is_an_unknown_error() -> None:
    with pytest.raises(ProviderError) as info:
        SseEvent("message", "{nope").json("p")
    assert info.value.kind == "unknown" and info.value.details["data"] == "{nope"


def test_tool_call_arguments() -> None:
    assert tool_call("c", "t", '{"a": 1}') == ToolCall(id="c", name="t", arguments={"a": 1})
    assert tool_call("c", "t", "  ") == ToolCall(id="c", name="t", arguments={})
    assert tool_call("c", "t", "[1]").raw_arguments == "[1]"
    assert tool_call("c", "t", '{"a":').raw_arguments == '{"a":'


def test_cost_and_totals() -> None:
    price = ModelCostConfig(input=3, output=15, cache_read=0.3)
    usage = Usage(1_000_000, 100_000, cache_read_tokens=2_000_000, cache_write_tokens=1_000_000)
    assert cost(usage, price) == pytest.approx(3 + 1.5 + 0.6 + 3)
    assert cost(usage, None) is None
    priced = record(ModelRef("anthropic", "sonnet"), usage, price, profile="anthropic:env")
    unpriced = record(ModelRef("ollama", "llama"), Usage(10, 5), None, fallback=True)
    assert UsageRecord.from_json(priced.to_json()) == priced
    totals = UsageTotals()
    totals.add(priced)
    totals.add(unpriced)
    assert (totals.calls, totals.input_tokens, totals.output_tokens, totals.unpriced_calls) == (
        2,
        1_000_010,
        100_005,
        1,
    )
    assert totals.cost_usd == pytest.approx(8.1)

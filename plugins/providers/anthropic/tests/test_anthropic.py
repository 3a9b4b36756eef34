"""The Anthropic provider against the fake Messages API server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from moltbot_anthropic.provider import AnthropicProvider

from moltbot.interfaces.provider import (
    ChatMessage,
    Done,
    ModelRequest,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSchema,
    Usage,
)
from moltbot.models.config import ProviderConfig
from moltbot.testing import build_context
from moltbot.testing.conformance import ModelProviderConformance, ProviderHarness
from moltbot.testing.fake_anthropic import FakeAnthropic, Reply, ToolCallScript

KEY = "sk-ant-test"
MODEL = "claude-test"
OPEN: list[AnthropicProvider] = []


@pytest.fixture(autouse=True)
async def close_providers() -> AsyncIterator[None]:
    """Every provider a test builds is closed afterwards, releasing its pooled connections."""
    yield
    while OPEN:
        await OPEN.pop().aclose()


async def start(nursery: trio.Nursery) -> FakeAnthropic:
    fake = FakeAnthropic(api_keys={KEY})
    await nursery.start(fake.run)
    return fake


def build(config: dict[str, object], tmp_path: Path, name: str = "anthropic") -> AnthropicProvider:
    provider = AnthropicProvider(ProviderConfig.model_validate(config), build_context(tmp_path, name))
    OPEN.append(provider)
    return provider


def make(fake: FakeAnthropic, tmp_path: Path, **config: object) -> AnthropicProvider:
    return build({"baseUrl": fake.base_url, "apiKey": KEY, **config}, tmp_path)


def ask(text: str = "hi") -> ModelRequest:
    return ModelRequest(model=MODEL, messages=(ChatMessage(role="user", content=text),))


async def collect(provider: AnthropicProvider, request: ModelRequest) -> list[object]:
    with trio.fail_after(10):
        return [e async for e in provider.stream(request)]


async def failure(provider: AnthropicProvider) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await collect(provider, ask())
    return info.value


class TestAnthropicConformance(ModelProviderConformance):
    @pytest.fixture
    async def provider_harness(self, nursery: trio.Nursery, tmp_path: Path) -> ProviderHarness:
        fake = await start(nursery)
        return ProviderHarness(
            provider=make(fake, tmp_path),
            model=MODEL,
            reply_with=lambda text: fake.script(Reply(text=text)),
            fail_auth=fake.fail_auth,
            reply_with_tool_call=lambda i, n, a: fake.script(Reply(tool_calls=[ToolCallScript(i, n, a, 4)])),
            rate_limit=fake.rate_limit,
            overloaded=fake.overloaded,
            malformed=fake.malformed,
        )


async def test_request_maps_system_tools_and_tool_results(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    provider = make(fake, tmp_path, models={MODEL: {"maxTokens": 777}})
    calls = (
        ToolCall(id="toolu_1", name="lookup", arguments={"q": "x"}),
        ToolCall(id="toolu_2", name="lookup", arguments={"q": "y"}),
    )
    request = ModelRequest(
        model=MODEL,
        system="be brief",
        messages=(
            ChatMessage(role="system", content="extra rule"),
            ChatMessage(role="user", content="find x and y"),
            ChatMessage(role="assistant", content="Looking.", tool_calls=calls),
            ChatMessage(role="tool", tool_call_id="toolu_1", content="x is 1"),
            ChatMessage(role="tool", tool_call_id="toolu_2", content="y is 2"),
            ChatMessage(role="user", content="thanks"),
        ),
        tools=(ToolSchema(name="lookup", description="Look up", parameters={"type": "object"}),),
    )
    await collect(provider, request)
    sent = fake.requests[-1]
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.body
    assert body["system"] == "be brief\n\nextra rule"
    assert body["max_tokens"] == 777 and body["stream"] is True
    assert body["tools"] == [{"name": "lookup", "description": "Look up", "input_schema": {"type": "object"}}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "find x and y"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}},
                {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"q": "y"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "x is 1"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "y is 2"},
                {"type": "text", "text": "thanks"},
            ],
        },
    ]


async def test_text_then_tool_use_with_usage(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.script(
        Reply(
            text="Checking the weather. ",
            tool_calls=[
                ToolCallScript("toolu_w", "get_weather", '{"city": "Paris", "unit": "c"}', fragments=6)
            ],
            usage=(400, 42),
        )
    )
    events = await collect(make(fake, tmp_path), ask())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Checking the weather. "
    assert [e.call for e in events if isinstance(e, ToolCallEvent)] == [
        ToolCall(id="toolu_w", name="get_weather", arguments={"city": "Paris", "unit": "c"})
    ]
    assert [e for e in events if isinstance(e, Usage)] == [Usage(400, 42)]
    assert events[-1] == Done("tool_calls")


async def test_max_tokens_stop_reason(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="cut", stop="max_tokens"))
    assert (await collect(make(fake, tmp_path), ask()))[-1] == Done("max_tokens")


async def test_overloaded_error_event_mid_stream(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="partial ", stream_error=("overloaded_error", "Overloaded")))
    seen: list[object] = []
    with pytest.raises(ProviderError) as info:
        async for event in make(fake, tmp_path).stream(ask()):
            seen.append(event)
    assert info.value.kind == "overloaded"
    assert seen == [TextDelta("partial ")]


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(status=529, error_type="overloaded_error", error_message="Overloaded"), "overloaded"),
        (Reply(status=500, error_type="api_error", error_message="Internal server error"), "overloaded"),
        (Reply(status=403, error_type="permission_error", error_message="no access"), "auth"),
        (
            Reply(
                status=400, error_type="invalid_request_error", error_message="Your credit balance is too low"
            ),
            "billing",
        ),
        (Reply(status=402, error_type="billing_error", error_message="payment needed"), "billing"),
        (
            Reply(status=400, error_type="invalid_request_error", error_message="messages.0: bad"),
            "bad_request",
        ),
    ],
)
async def test_errors_are_classified(nursery: trio.Nursery, tmp_path: Path, reply: Reply, kind: str) -> None:
    fake = await start(nursery)
    fake.script(reply)
    assert (await failure(make(fake, tmp_path))).kind == kind


async def test_prompt_too_long_is_context_overflow(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.context_overflow()
    assert (await failure(make(fake, tmp_path))).kind == "context_overflow"


async def test_retry_after_ms_header(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.script(
        Reply(
            status=429,
            error_type="rate_limit_error",
            error_message="slow down",
            headers={"retry-after-ms": "1500"},
        )
    )
    error = await failure(make(fake, tmp_path))
    assert (error.kind, error.retry_after) == ("rate_limit", 1.5)


async def test_slow_server_times_out(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="late", delay=3))
    assert (await failure(make(fake, tmp_path, timeout=200))).kind == "timeout"


async def test_env_key_only_for_the_anthropic_provider(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await start(nursery)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    assert [p.id for p in build({"baseUrl": fake.base_url}, tmp_path).auth_profiles()] == ["anthropic:env"]
    assert build({"baseUrl": fake.base_url}, tmp_path, "proxy").auth_profiles() == []
    await collect(build({"baseUrl": fake.base_url}, tmp_path), ask())
    assert fake.requests[-1].headers["x-api-key"] == KEY


async def test_list_models(nursery: trio.Nursery, tmp_path: Path) -> None:
    fake = await start(nursery)
    fake.model_ids = ["claude-b", "claude-a"]
    assert await make(fake, tmp_path).list_models() == ["claude-a", "claude-b"]

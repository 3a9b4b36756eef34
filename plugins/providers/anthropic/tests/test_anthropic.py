"""The Anthropic provider against the fake Messages API server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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
from moltbot.testing.conformance import ModelProviderConformance, ProviderHarness
from moltbot.testing.fake_anthropic import FakeAnthropic, Reply, ToolCallScript
from moltbot.testing.providers import ProviderFactory, outcome

KEY = "sk-ant-test"
MODEL = "claude-test"
Build = ProviderFactory[AnthropicProvider]


@pytest.fixture
async def build(tmp_path: Path) -> AsyncIterator[Build]:
    """``build(config, name)``: providers closed (and checked for open sockets) after the test."""
    async with ProviderFactory(AnthropicProvider, tmp_path) as factory:
        yield factory


async def start(nursery: trio.Nursery) -> FakeAnthropic:
    fake = FakeAnthropic(api_keys={KEY})
    await nursery.start(fake.run)
    return fake


def make(build: Build, fake: FakeAnthropic, **config: object) -> AnthropicProvider:
    return build({"baseUrl": fake.base_url, "apiKey": KEY, **config}, "anthropic")


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
    async def provider_harness(self, nursery: trio.Nursery, build: Build) -> ProviderHarness:
        fake = await start(nursery)
        return ProviderHarness(
            provider=make(build, fake),
            model=MODEL,
            reply_with=lambda text: fake.script(Reply(text=text)),
            fail_auth=fake.fail_auth,
            reply_with_tool_call=lambda i, n, a: fake.script(Reply(tool_calls=[ToolCallScript(i, n, a, 4)])),
            rate_limit=fake.rate_limit,
            overloaded=fake.overloaded,
            malformed=fake.malformed,
        )


async def test_request_maps_system_tools_and_tool_results(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    provider = make(build, fake, models={MODEL: {"maxTokens": 777}})
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


async def test_text_then_tool_use_with_usage(nursery: trio.Nursery, build: Build) -> None:
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
    events = await collect(make(build, fake), ask())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Checking the weather. "
    assert [e.call for e in events if isinstance(e, ToolCallEvent)] == [
        ToolCall(id="toolu_w", name="get_weather", arguments={"city": "Paris", "unit": "c"})
    ]
    assert [e for e in events if isinstance(e, Usage)] == [Usage(400, 42)]
    assert events[-1] == Done("tool_calls")


async def test_max_tokens_stop_reason(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="cut", stop="max_tokens"))
    assert (await collect(make(build, fake), ask()))[-1] == Done("max_tokens")


async def test_overloaded_error_event_mid_stream(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="partial ", stream_error=("overloaded_error", "Overloaded")))
    seen: list[object] = []
    with pytest.raises(ProviderError) as info:
        async for event in make(build, fake).stream(ask()):
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
async def test_errors_are_classified(nursery: trio.Nursery, build: Build, reply: Reply, kind: str) -> None:
    fake = await start(nursery)
    fake.script(reply)
    assert (await failure(make(build, fake))).kind == kind


async def test_prompt_too_long_is_context_overflow(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.context_overflow()
    assert (await failure(make(build, fake))).kind == "context_overflow"


async def test_retry_after_ms_header(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(
        Reply(
            status=429,
            error_type="rate_limit_error",
            error_message="slow down",
            headers={"retry-after-ms": "1500"},
        )
    )
    error = await failure(make(build, fake))
    assert (error.kind, error.retry_after) == ("rate_limit", 1.5)


async def test_slow_server_times_out(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="late", delay=3))
    assert (await failure(make(build, fake, timeout=200))).kind == "timeout"


async def test_env_key_only_for_the_anthropic_provider(
    nursery: trio.Nursery, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await start(nursery)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    assert [p.id for p in build({"baseUrl": fake.base_url}, "anthropic").auth_profiles()] == ["anthropic:env"]
    assert build({"baseUrl": fake.base_url}, "proxy").auth_profiles() == []
    await collect(build({"baseUrl": fake.base_url}, "anthropic"), ask())
    assert fake.requests[-1].headers["x-api-key"] == KEY


async def test_list_models(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.model_ids = ["claude-b", "claude-a"]
    assert await make(build, fake).list_models() == ["claude-a", "claude-b"]


@pytest.mark.parametrize(
    ("script", "ending"),
    [
        (FakeAnthropic.fail_auth, "auth"),
        (lambda fake: fake.rate_limit(7), "rate_limit"),
        (FakeAnthropic.overloaded, "overloaded"),
        (lambda fake: fake.script(Reply(text="late", delay=3)), "timeout"),
        (FakeAnthropic.malformed, "unknown"),
        (lambda fake: fake.script(Reply(text="partial", stream_error=("api_error", "x"))), "overloaded"),
        (lambda fake: fake.script(Reply(text="partial answer", drop=True)), "network"),
        (lambda fake: fake.script(Reply(text="slow answer", chunk_delay=3)), "cancelled"),
        (lambda fake: fake.script(Reply(text="whole answer")), "answered"),
    ],
    ids=["401", "429", "529", "timeout", "malformed", "error-event", "dropped", "cancelled", "answered"],
)
async def test_every_ending_releases_the_connection(
    nursery: trio.Nursery, build: Build, script: Callable[[FakeAnthropic], None], ending: str
) -> None:
    """However an exchange ends, its connection goes back to the pool (and the next call reuses
    it) or is closed; closing the provider leaves none."""
    fake = await start(nursery)
    provider = make(build, fake, timeout=250 if ending == "timeout" else 5000)
    script(fake)
    assert await outcome(provider.stream(ask()), cancel_after=0.3 if ending == "cancelled" else 5) == ending
    await build.check_released(provider)

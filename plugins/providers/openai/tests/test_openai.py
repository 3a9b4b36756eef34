"""The OpenAI provider against the fake Chat Completions server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import trio
from moltbot_openai.provider import OpenAIProvider

from moltbot.interfaces.provider import (
    AuthProfile,
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
from moltbot.testing.fake_openai import FakeOpenAI, Reply, ToolCallScript
from moltbot.testing.providers import ProviderFactory, open_sockets, outcome

KEY = "sk-test-key"


async def start(nursery: trio.Nursery, **fake_kwargs: object) -> FakeOpenAI:
    fake = FakeOpenAI(api_keys={KEY}, **fake_kwargs)  # type: ignore[arg-type]
    await nursery.start(fake.run)
    return fake


Build = ProviderFactory[OpenAIProvider]


@pytest.fixture
async def build(tmp_path: Path) -> AsyncIterator[Build]:
    """``build(config, name)``: providers closed (and checked for open sockets) after the test."""
    async with ProviderFactory(OpenAIProvider, tmp_path) as factory:
        yield factory


def make(build: Build, fake: FakeOpenAI, name: str = "openai", **config: object) -> OpenAIProvider:
    return build({"baseUrl": fake.base_url, "apiKey": KEY, **config}, name)


def ask(text: str = "hi", **kwargs: object) -> ModelRequest:
    return ModelRequest(model="gpt-test", messages=(ChatMessage(role="user", content=text),), **kwargs)  # type: ignore[arg-type]


async def collect(provider: OpenAIProvider, request: ModelRequest, **kwargs: object) -> list[object]:
    with trio.fail_after(10):
        return [e async for e in provider.stream(request, **kwargs)]  # type: ignore[arg-type]


class TestOpenAIConformance(ModelProviderConformance):
    @pytest.fixture
    async def provider_harness(self, nursery: trio.Nursery, build: Build) -> ProviderHarness:
        fake = await start(nursery)
        return ProviderHarness(
            provider=make(build, fake),
            model="gpt-test",
            reply_with=lambda text: fake.script(Reply(text=text)),
            fail_auth=fake.fail_auth,
            reply_with_tool_call=lambda i, n, a: fake.script(Reply(tool_calls=[ToolCallScript(i, n, a, 4)])),
            rate_limit=fake.rate_limit,
            overloaded=fake.overloaded,
            malformed=fake.malformed,
        )


async def test_request_carries_key_system_tools_and_history(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    provider = make(build, fake, headers={"x-extra": "1"})
    earlier = ToolCall(id="call_9", name="lookup", arguments={"q": "x"})
    request = ModelRequest(
        model="gpt-test",
        system="be brief",
        messages=(
            ChatMessage(role="user", content="find x"),
            ChatMessage(role="assistant", tool_calls=(earlier,)),
            ChatMessage(role="tool", tool_call_id="call_9", content="x is 1"),
        ),
        tools=(ToolSchema(name="lookup", description="Look up", parameters={"type": "object"}),),
        max_tokens=50,
        temperature=0.2,
    )
    await collect(provider, request)
    sent = fake.requests[-1]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["x-extra"] == "1"
    body = sent.body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "find x"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "x is 1"},
    ]
    assert body["tools"][0]["function"]["name"] == "lookup"
    assert (body["max_tokens"], body["temperature"]) == (50, 0.2)


async def test_text_tool_calls_and_usage_in_order(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(
        Reply(
            text="Let me check. ",
            tool_calls=[
                ToolCallScript("call_a", "first", '{"a": 1}', fragments=5),
                ToolCallScript("call_b", "second", "", fragments=1),
            ],
            usage=(120, 30),
        )
    )
    events = await collect(make(build, fake), ask())
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me check. "
    calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
    assert calls == [
        ToolCall(id="call_a", name="first", arguments={"a": 1}),
        ToolCall(id="call_b", name="second", arguments={}),
    ]
    assert [e for e in events if isinstance(e, Usage)] == [Usage(120, 30)]
    assert events[-1] == Done("tool_calls")


async def test_invalid_tool_arguments_are_kept_raw(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(Reply(tool_calls=[ToolCallScript("call_x", "broken", '{"a": ', fragments=2)]))
    events = await collect(make(build, fake), ask())
    call = next(e.call for e in events if isinstance(e, ToolCallEvent))
    assert call.arguments == {} and call.raw_arguments == '{"a": '


async def test_auth_profile_picks_the_key(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.api_keys = {KEY, "sk-second"}
    provider = make(build, fake, authProfiles=[{"id": "second", "apiKey": "sk-second"}])
    assert [p.id for p in provider.auth_profiles()] == ["openai:default", "openai:second"]
    await collect(provider, ask(), auth=provider.auth_profiles()[1])
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-second"
    with pytest.raises(ProviderError) as info:
        await collect(provider, ask(), auth=AuthProfile(id="openai:bad", api_key="sk-wrong"))
    assert info.value.kind == "auth" and info.value.status == 401


async def test_env_key_only_for_the_openai_provider(
    nursery: trio.Nursery, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = await start(nursery)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    official = build({"baseUrl": fake.base_url}, "openai")
    local = build({"baseUrl": fake.base_url}, "ollama")
    assert [p.id for p in official.auth_profiles()] == ["openai:env"]
    assert local.auth_profiles() == []
    fake.api_keys = None
    await collect(local, ask())
    assert "authorization" not in fake.requests[-1].headers


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (
            Reply(
                status=429, error_type="insufficient_quota", error_message="You exceeded your current quota"
            ),
            "billing",
        ),
        (Reply(status=402, error_type="payment_required", error_message="Payment required"), "billing"),
        (Reply(status=500, error_type="server_error", error_message="boom"), "overloaded"),
        (Reply(status=404, error_type="model_not_found", error_message="no such model"), "bad_request"),
        (Reply(stream_error=("server_error", "upstream died")), "overloaded"),
    ],
)
async def test_errors_are_classified(nursery: trio.Nursery, build: Build, reply: Reply, kind: str) -> None:
    fake = await start(nursery)
    fake.script(reply)
    with pytest.raises(ProviderError) as info:
        await collect(make(build, fake), ask())
    assert info.value.kind == kind


async def test_context_overflow(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.context_overflow()
    with pytest.raises(ProviderError) as info:
        await collect(make(build, fake), ask())
    assert info.value.kind == "context_overflow" and "maximum context length" in info.value.message


async def test_slow_server_times_out(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    fake.script(Reply(text="late", delay=3))
    with pytest.raises(ProviderError) as info:
        await collect(make(build, fake, timeout=200), ask())
    assert info.value.kind == "timeout"


async def test_stream_cut_short_is_an_error(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery)
    chunk = {"choices": [{"index": 0, "delta": {"content": "par"}, "finish_reason": None}]}
    fake.script(Reply(raw=f"data: {json.dumps(chunk)}\n\n"))
    with pytest.raises(ProviderError) as info:
        await collect(make(build, fake), ask())
    assert info.value.kind == "unknown"


async def test_unreachable_server_is_a_network_error(build: Build) -> None:
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = build({"baseUrl": f"http://127.0.0.1:{port}/v1"}, "local")
    with pytest.raises(ProviderError) as info:
        await collect(provider, ask())
    assert info.value.kind == "network"


async def test_list_models(nursery: trio.Nursery, build: Build) -> None:
    fake = await start(nursery, model_ids=["b-model", "a-model"])
    assert await make(build, fake).list_models() == ["a-model", "b-model"]


_CUT_SHORT = 'data: {"choices": [{"index": 0, "delta": {"content": "par"}}]}\n\n'


@pytest.mark.parametrize(
    ("script", "ending"),
    [
        (FakeOpenAI.fail_auth, "auth"),
        (lambda fake: fake.rate_limit(7), "rate_limit"),
        (FakeOpenAI.server_error, "overloaded"),
        (lambda fake: fake.script(Reply(text="late", delay=3)), "timeout"),
        (FakeOpenAI.malformed, "unknown"),
        (lambda fake: fake.script(Reply(raw=_CUT_SHORT)), "unknown"),
        (lambda fake: fake.script(Reply(text="partial", stream_error=("server_error", "x"))), "overloaded"),
        (lambda fake: fake.script(Reply(text="partial answer", drop=True)), "network"),
        (lambda fake: fake.script(Reply(text="slow answer", chunk_delay=3)), "cancelled"),
        (lambda fake: fake.script(Reply(text="late", delay=3)), "cancelled"),
    ],
    ids=[
        "401",
        "429",
        "500",
        "timeout",
        "malformed",
        "cut",
        "error-event",
        "dropped",
        "cancelled-mid-stream",
        "cancelled-before-headers",
    ],
)
async def test_a_failed_exchange_releases_its_connection(
    nursery: trio.Nursery, build: Build, script: Callable[[FakeOpenAI], None], ending: str
) -> None:
    """Whatever ends an exchange, its connection goes back to the pool or is closed: the next
    request reuses it (one socket at most), and closing the provider leaves none."""
    fake = await start(nursery)
    provider = make(build, fake, timeout=250 if ending == "timeout" else 5000)
    script(fake)
    assert await outcome(provider.stream(ask()), cancel_after=0.3 if ending == "cancelled" else 5) == ending
    await build.check_released(provider)


async def test_a_finished_answer_leaves_its_connection_to_the_next_call(
    nursery: trio.Nursery, build: Build
) -> None:
    fake = await start(nursery)
    provider = make(build, fake)
    await collect(provider, ask())
    kept = open_sockets(fake.base_url)
    await collect(provider, ask("again"))
    assert len(kept) == 1 and open_sockets(fake.base_url) == kept

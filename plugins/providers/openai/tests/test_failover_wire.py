"""Failover over the real wire: profile rotation on a 401 and model fallback on a 503."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from moltbot_openai.provider import OpenAIProvider

from moltbot.interfaces.provider import ChatMessage, ModelRequest, TextDelta
from moltbot.models.failover import Answered, FailoverPolicy
from moltbot.models.refs import ModelRef
from moltbot.testing.fake_openai import FakeOpenAI
from moltbot.testing.providers import ProviderFactory


@pytest.fixture
async def fakes(nursery: trio.Nursery) -> tuple[FakeOpenAI, FakeOpenAI]:
    cloud = FakeOpenAI(api_keys={"sk-good"})
    local = FakeOpenAI()
    await nursery.start(cloud.run)
    await nursery.start(local.run)
    return cloud, local


@pytest.fixture
async def providers(
    tmp_path: Path, fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> AsyncIterator[dict[str, OpenAIProvider]]:
    cloud, local = fakes
    cloud_config = {
        "baseUrl": cloud.base_url,
        "authProfiles": [{"id": "revoked", "apiKey": "sk-revoked"}, {"id": "good", "apiKey": "sk-good"}],
    }
    async with ProviderFactory(OpenAIProvider, tmp_path) as build:
        yield {
            "openai": build(cloud_config, "openai"),
            "ollama": build({"baseUrl": local.base_url}, "ollama"),
        }


def ask() -> ModelRequest:
    return ModelRequest(model="", messages=(ChatMessage(role="user", content="hello"),))


async def turn(policy: FailoverPolicy) -> tuple[Answered, str]:
    answered: Answered | None = None
    text = ""
    with trio.fail_after(10):
        async for event in policy.stream([ModelRef("openai", "gpt-x"), ModelRef("ollama", "llama3")], ask()):
            if isinstance(event, Answered):
                answered = event
            elif isinstance(event, TextDelta):
                text += event.text
    assert answered is not None
    return answered, text


async def test_rejected_key_rotates_to_the_next_profile(
    providers: dict[str, OpenAIProvider], fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    cloud, local = fakes
    answered, text = await turn(FailoverPolicy(providers))
    assert (answered.ref, answered.profile, text) == (
        ModelRef("openai", "gpt-x"),
        "openai:good",
        "echo: hello",
    )
    assert [r.headers["authorization"] for r in cloud.requests] == ["Bearer sk-revoked", "Bearer sk-good"]
    assert local.requests == []


async def test_overloaded_cloud_falls_back_to_the_local_model(
    providers: dict[str, OpenAIProvider], fakes: tuple[FakeOpenAI, FakeOpenAI]
) -> None:
    cloud, local = fakes
    cloud.overloaded()  # the revoked key is refused before a reply is taken, so both
    cloud.overloaded()  # overloads go to the good key: one try and one retry
    policy = FailoverPolicy(providers, retries=1, backoff=0.01)
    answered, text = await turn(policy)
    assert answered.ref == ModelRef("ollama", "llama3") and text == "echo: hello"
    assert answered.notice() == "↪ answered by fallback ollama/llama3 (openai/gpt-x: overloaded)"
    assert local.requests[0].body["model"] == "llama3"
    keys = [r.headers["authorization"] for r in cloud.requests]
    assert keys == ["Bearer sk-revoked", "Bearer sk-good", "Bearer sk-good"]

"""moltbot-openai: registers the ``openai`` model provider (OpenAI Chat Completions and every
server that speaks it). Heavy imports stay inside the factory's module."""

from collections.abc import Iterator

import moltbot
from moltbot.models.config import ProviderConfig


@moltbot.hookimpl
def moltbot_register_model_providers() -> Iterator[moltbot.ModelProviderSpec]:
    from moltbot_openai.provider import OpenAIProvider

    yield moltbot.ModelProviderSpec(
        name="openai",
        factory=OpenAIProvider,
        config=ProviderConfig,
        summary="OpenAI Chat Completions with streaming and tool calls; any OpenAI-compatible baseUrl",
    )

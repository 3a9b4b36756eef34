"""moltbot-anthropic: registers the ``anthropic`` model provider (the Messages API). Heavy
imports stay inside the factory's module."""

from collections.abc import Iterator

import moltbot
from moltbot.models.config import ProviderConfig


@moltbot.hookimpl
def moltbot_register_model_providers() -> Iterator[moltbot.ModelProviderSpec]:
    from moltbot_anthropic.provider import AnthropicProvider

    yield moltbot.ModelProviderSpec(
        name="anthropic",
        factory=AnthropicProvider,
        config=ProviderConfig,
        summary="Anthropic Messages API with streaming and tool use",
    )

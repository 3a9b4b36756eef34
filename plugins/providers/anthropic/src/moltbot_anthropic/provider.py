"""The Anthropic Messages API provider: streamed SSE over httpx, on trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from moltbot.interfaces.provider import AuthProfile, ModelProvider, ModelRequest, StreamEvent
from moltbot.models import http
from moltbot.models.auth import resolve_profiles
from moltbot.models.config import ProviderConfig
from moltbot.specs import BuildContext
from moltbot_anthropic.wire import parse_stream, request_body

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
ENV_VAR = "ANTHROPIC_API_KEY"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096


class AnthropicProvider(ModelProvider):
    """One Messages API endpoint. ``ANTHROPIC_API_KEY`` is only used by the provider named
    ``anthropic``, so the key never reaches a third-party ``baseUrl``."""

    def __init__(self, config: ProviderConfig, ctx: BuildContext) -> None:
        self.name = ctx.name
        self.config = config
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._profiles = resolve_profiles(ctx.name, config, ENV_VAR if ctx.name == "anthropic" else None)
        self._http = http.client(config.timeout)

    def auth_profiles(self) -> list[AuthProfile]:
        return list(self._profiles)

    def _headers(self, auth: AuthProfile | None) -> dict[str, str]:
        profile = auth or (self._profiles[0] if self._profiles else None)
        headers = {"anthropic-version": API_VERSION, "accept": "text/event-stream", **self.config.headers}
        if profile and profile.api_key:
            headers["x-api-key"] = profile.api_key
        return headers

    def _max_tokens(self, model: str) -> int:
        entry = self.config.models.get(model)
        return entry.max_tokens if entry and entry.max_tokens else DEFAULT_MAX_TOKENS

    async def stream(  # type: ignore[override]
        self, request: ModelRequest, *, auth: AuthProfile | None = None
    ) -> AsyncIterator[StreamEvent]:
        url = f"{self.base_url}/messages"
        body = request_body(request, self._max_tokens(request.model))
        async with aclosing(
            http.stream_events(
                self._http,
                url,
                headers=self._headers(auth),
                body=body,
                provider=self.name,
                parse=parse_stream,
            )
        ) as events:
            async for event in events:
                yield event

    async def list_models(self) -> list[str]:
        return await http.list_model_ids(
            self._http, f"{self.base_url}/models", headers=self._headers(None), provider=self.name
        )

    async def aclose(self) -> None:
        await self._http.aclose()

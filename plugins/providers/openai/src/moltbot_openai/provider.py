"""The OpenAI Chat Completions provider: streamed SSE over httpx, on trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from moltbot.interfaces.provider import AuthProfile, ModelProvider, ModelRequest, StreamEvent
from moltbot.models import http
from moltbot.models.auth import resolve_profiles
from moltbot.models.config import ProviderConfig
from moltbot.specs import BuildContext
from moltbot_openai.wire import parse_stream, request_body

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ENV_VAR = "OPENAI_API_KEY"


class OpenAIProvider(ModelProvider):
    """One Chat Completions endpoint. ``OPENAI_API_KEY`` is only used by the provider named
    ``openai``, so a key for OpenAI never reaches a third-party ``baseUrl``."""

    def __init__(self, config: ProviderConfig, ctx: BuildContext) -> None:
        self.name = ctx.name
        self.config = config
        self.base_url = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._profiles = resolve_profiles(ctx.name, config, ENV_VAR if ctx.name == "openai" else None)
        self._http = http.client(config.timeout)

    def auth_profiles(self) -> list[AuthProfile]:
        return list(self._profiles)

    def _headers(self, auth: AuthProfile | None) -> dict[str, str]:
        profile = auth or (self._profiles[0] if self._profiles else None)
        headers = {"accept": "text/event-stream", **self.config.headers}
        if profile and profile.api_key:
            headers["authorization"] = f"Bearer {profile.api_key}"
        return headers

    async def stream(  # type: ignore[override]
        self, request: ModelRequest, *, auth: AuthProfile | None = None
    ) -> AsyncIterator[StreamEvent]:
        url = f"{self.base_url}/chat/completions"
        body = request_body(request)
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

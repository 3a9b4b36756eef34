"""HTTP plumbing shared by the provider plugins: open a streamed POST and classify failures.

Every httpx failure becomes a :class:`ProviderError`: timeouts are ``timeout``, other transport
failures ``network``, and a non-2xx answer is classified from its status, headers and JSON body.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from typing import Any

import httpx
import trio

from moltbot.interfaces.provider import ProviderError, StreamEvent
from moltbot.models.errors import classify
from moltbot.models.sse import iter_sse

DRAIN_SECONDS = 0.5
"""How long a finished answer's remaining bytes are awaited to keep its connection for reuse."""


def client(timeout_ms: int) -> httpx.AsyncClient:
    """A client whose every phase (connect, each read of the stream) waits ``timeout_ms``."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_ms / 1000), follow_redirects=False)


def _body_of(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return {"error": {"message": raw.decode("utf-8", "replace")[:500]}}


@asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], body: Any, provider: str
) -> AsyncIterator[AsyncIterator[str]]:
    """POST ``body`` as JSON and yield the lines of the streamed answer once its status is 2xx.

    Transport errors raised while the caller reads the lines are classified too.
    """
    try:
        async with http.stream("POST", url, headers=dict(headers), json=body) as response:
            if response.status_code >= 300:
                raw = await response.aread()
                raise classify(response.status_code, _body_of(raw), response.headers, provider=provider)
            lines = response.aiter_lines()
            try:
                yield lines
            except BaseException:
                await _close(response, lines)
                raise
            await _close(response, lines, drain=DRAIN_SECONDS)
    except httpx.TimeoutException as exc:
        raise ProviderError("timeout", f"{provider} did not answer in time ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise ProviderError("network", f"cannot reach {provider}: {exc or type(exc).__name__}") from None


async def _close(response: httpx.Response, lines: AsyncIterator[str], *, drain: float = 0) -> None:
    """Close the response, then run its line iterator to its end (it fails at once on the closed
    stream). httpx nests async generators that trio would otherwise report as abandoned
    (encode/httpx#3686).

    With ``drain`` (an answer read to its last event), what is left of the body (the chunked
    terminator) is read first for up to that many seconds: a response closed before its end
    takes its connection down with it, one read to the end returns it to the pool for the next
    call."""
    try:
        if drain:
            with trio.move_on_after(drain):
                async for _ in lines:
                    pass
    except httpx.HTTPError:
        pass
    finally:
        with trio.move_on_after(5) as scope:
            scope.shield = True
            await response.aclose()
            try:
                async for _ in lines:
                    pass
            except httpx.HTTPError:
                pass


async def get_json(http: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], provider: str) -> Any:
    """GET a JSON document, with the same error classification as :func:`open_stream`."""
    try:
        response = await http.get(url, headers=dict(headers))
    except httpx.TimeoutException:
        raise ProviderError("timeout", f"{provider} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise ProviderError("network", f"cannot reach {provider}: {exc or type(exc).__name__}") from None
    if response.status_code >= 300:
        raise classify(response.status_code, _body_of(response.content), response.headers, provider=provider)
    return _body_of(response.content)


async def stream_events(
    http: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    body: Any,
    provider: str,
    parse: Callable[[AsyncIterator[Any], str], AsyncIterator[StreamEvent]],
) -> AsyncIterator[StreamEvent]:
    """POST ``body`` and yield the provider's events: SSE lines parsed by the plugin's ``parse``,
    with every generator closed when the caller stops early."""
    async with (
        open_stream(http, url, headers=headers, body=body, provider=provider) as lines,
        aclosing(iter_sse(lines)) as events,
        aclosing(parse(events, provider)) as parsed,
    ):
        async for event in parsed:
            yield event


async def list_model_ids(
    http: httpx.AsyncClient, url: str, *, headers: Mapping[str, str], provider: str
) -> list[str]:
    """The sorted ``data[].id`` of a ``GET /models`` answer (OpenAI and Anthropic share it)."""
    data = await get_json(http, url, headers=headers, provider=provider)
    return sorted(str(m["id"]) for m in data.get("data", []) if isinstance(m, dict) and "id" in m)

"""Server-sent events parsing (the WHATWG event-stream format) over streamed text lines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any

from moltbot.interfaces.provider import ProviderError


@dataclass(frozen=True)
class SseEvent:
    event: str
    """The ``event:`` field; ``"message"`` when the server sent none (as OpenAI does)."""
    data: str

    def json(self, provider: str = "") -> Any:
        """The data as JSON; a malformed payload is a classified ``unknown`` provider error."""
        try:
            return json.loads(self.data)
        except ValueError:
            raise ProviderError(
                "unknown",
                f"{provider} sent a malformed stream event".strip(),
                details={"event": self.event, "data": self.data[:500]},
            ) from None


async def iter_sse(lines: AsyncIterable[str]) -> AsyncIterator[SseEvent]:
    """Events from the stream's lines; comments (``: ping``) are skipped and an event left
    unterminated when the stream ends is dropped, as the format prescribes."""
    event = ""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SseEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)

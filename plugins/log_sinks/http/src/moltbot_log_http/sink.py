"""The HTTP sink: records are batched and POSTed as JSON by a trio task.

Body: ``{"source": "moltbot", "host": ..., "dropped": n, "records": [...]}`` where ``dropped``
counts records lost to a full queue since the previous accepted batch, so the collector learns
about gaps. 5xx, 429 (honouring ``Retry-After``) and connection errors are retried with full
jitter exponential backoff; other 4xx answers drop the batch (retrying cannot help).
"""

from __future__ import annotations

import random
import socket
from typing import Any

import httpx
import trio
from pydantic import Field, HttpUrl

from moltbot import BuildContext, LogRecord, StrictModel
from moltbot.logs import QueuedLogSink
from moltbot.logs.format import record_dict

RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


class HttpSinkConfig(StrictModel):
    url: HttpUrl
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra headers, e.g. ``{"Authorization": "Bearer ${LOG_TOKEN}"}``."""
    batch_size: int = Field(100, ge=1, le=10000)
    flush_interval: int = Field(1000, ge=0)
    """How long a batch may wait to fill (ms)."""
    queue_size: int = Field(10000, ge=1)
    max_retries: int = Field(5, ge=0)
    backoff_initial: int = Field(500, ge=1)
    backoff_max: int = Field(30000, ge=1)
    timeout: int = Field(10000, ge=100)


class HttpSink(QueuedLogSink):
    def __init__(
        self, config: HttpSinkConfig, ctx: BuildContext, *, rng: random.Random | None = None
    ) -> None:
        super().__init__(
            capacity=config.queue_size, batch_size=config.batch_size, linger=config.flush_interval / 1000
        )
        self.config = config
        self.url = str(config.url)
        self.host = socket.gethostname()
        self.rng = rng or random.Random()
        self.retries = 0
        self._reported_drops = 0
        self._client: httpx.AsyncClient | None = None

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, initial * 2**attempt)] seconds."""
        ceiling = min(self.config.backoff_max, self.config.backoff_initial * 2**attempt) / 1000
        return self.rng.uniform(0, ceiling)

    def payload(self, batch: list[LogRecord]) -> dict[str, Any]:
        return {
            "source": "moltbot",
            "host": self.host,
            "dropped": self.dropped - self._reported_drops,
            "records": [record_dict(r) for r in batch],
        }

    async def deliver(self, batch: list[LogRecord]) -> None:
        assert self._client is not None, "deliver runs inside run()"
        for attempt in range(self.config.max_retries + 1):
            body = self.payload(batch)  # rebuilt per attempt so `dropped` stays current
            wait = self.backoff(attempt)
            try:
                response = await self._client.post(self.url, json=body)
            except httpx.TransportError:
                pass
            else:
                if response.is_success:
                    self.delivered += len(batch)
                    self._reported_drops += body["dropped"]
                    return
                if response.status_code not in RETRYABLE:
                    break
                wait = max(wait, _retry_after(response))
            if attempt < self.config.max_retries:
                self.retries += 1
                await trio.sleep(wait)
        self.failed += len(batch)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        timeout = httpx.Timeout(self.config.timeout / 1000)
        async with httpx.AsyncClient(headers=self.config.headers, timeout=timeout) as client:
            self._client = client
            try:
                await super().run(task_status=task_status)
            finally:
                self._client = None

    def statistics(self) -> dict[str, int]:
        return {**super().statistics(), "retries": self.retries}


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a numeric ``Retry-After`` header (capped at 5 minutes), else 0."""
    try:
        return min(float(response.headers.get("retry-after", "0")), 300.0)
    except ValueError:
        return 0.0

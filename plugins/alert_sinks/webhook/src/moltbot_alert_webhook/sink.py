"""The webhook alert sink: one JSON POST per alert, optionally signed.

With a ``secret`` the request carries ``X-Moltbot-Timestamp: <unix seconds>`` and
``X-Moltbot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``; receivers recompute
it with the shared secret and reject old timestamps to stop replays. 5xx, 429 and connection
errors are retried a few times; anything else raises so the monitor records the failure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable

import httpx
import trio
from pydantic import Field, HttpUrl, SecretStr

from moltbot import Alert, AlertSink, BuildContext, StrictModel

SIGNATURE_HEADER = "X-Moltbot-Signature"
TIMESTAMP_HEADER = "X-Moltbot-Timestamp"


class WebhookConfig(StrictModel):
    url: HttpUrl
    secret: SecretStr | None = None
    """Shared secret for the HMAC-SHA256 signature; unsigned when absent."""
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: int = Field(5000, ge=100)
    """Per attempt (ms)."""
    retries: int = Field(2, ge=0, le=10)
    retry_delay: int = Field(1000, ge=0)
    """Pause before the first retry (ms); doubles each time."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def alert_body(alert: Alert, host: str) -> dict[str, object]:
    return {
        "source": "moltbot",
        "host": host,
        "level": alert.level,
        "metric": alert.metric,
        "currentValue": alert.current_value,
        "threshold": alert.threshold,
        "message": alert.message,
        "state": alert.state,
        "time": alert.time.isoformat(),
    }


class WebhookAlertSink(AlertSink):
    def __init__(
        self, config: WebhookConfig, ctx: BuildContext, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.url = str(config.url)
        self.host = socket.gethostname()
        self.clock = clock
        self._client = httpx.AsyncClient(headers=config.headers, timeout=config.timeout / 1000)

    async def send(self, alert: Alert) -> None:
        body = json.dumps(alert_body(alert, self.host), separators=(",", ":")).encode()
        delay = self.config.retry_delay / 1000
        for attempt in range(self.config.retries + 1):
            headers = {"Content-Type": "application/json"}
            if self.config.secret is not None:
                stamp = str(int(self.clock()))
                headers[TIMESTAMP_HEADER] = stamp
                headers[SIGNATURE_HEADER] = sign(self.config.secret.get_secret_value(), stamp, body)
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.TransportError:
                if attempt == self.config.retries:
                    raise
            else:
                if response.is_success:
                    return
                if response.status_code != 429 and response.status_code < 500:
                    response.raise_for_status()
                if attempt == self.config.retries:
                    response.raise_for_status()
            await trio.sleep(delay)
            delay *= 2

    async def aclose(self) -> None:
        await self._client.aclose()

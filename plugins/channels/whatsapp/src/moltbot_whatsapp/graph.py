"""The Graph API calls the channel makes, with Meta's error envelope and rate-limit retries.

Errors look like ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.
Code 190 (invalid or expired token) is fatal; HTTP 429 and the throughput codes 4, 80007,
130429 and 131056 (pair rate limit) are retried with doubling delays (``Retry-After`` wins
when present); anything else raises :class:`GraphError` with Meta's message.
"""

from __future__ import annotations

from typing import Any

import httpx
import trio

from moltbot import ChannelFatalError

RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
ATTEMPTS = 4


class GraphError(Exception):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(f"WhatsApp Cloud API error {code} (HTTP {status}): {message}")


class Graph:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        version: str,
        token: str,
        *,
        timeout: float,
        retry_base: float,
    ) -> None:
        self.http = http
        self.base = f"{base_url.rstrip('/')}/{version}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.timeout = timeout
        self.retry_base = retry_base

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                response = await self.http.request(
                    method,
                    f"{self.base}/{path}",
                    json=body,
                    params=params,
                    headers=self.headers,
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                raise ConnectionError(f"WhatsApp Cloud API {path}: {type(exc).__name__}") from None
            try:
                data = response.json()
            except ValueError:
                data = {}
            if response.is_success and isinstance(data, dict) and "error" not in data:
                return data
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            code = error.get("code")
            message = str(error.get("message") or response.reason_phrase)
            if code == 190:
                raise ChannelFatalError(
                    f"WhatsApp rejected the access token (code 190: {message}); "
                    "set channels.whatsapp.accessToken to a valid system-user token"
                )
            limited = response.status_code == 429 or code in RATE_LIMIT_CODES
            if limited and attempt < ATTEMPTS - 1:
                retry_after = response.headers.get("retry-after", "")
                delay = float(retry_after) if retry_after.isdigit() else self.retry_base * 2**attempt
                attempt += 1
                await trio.sleep(delay)
                continue
            raise GraphError(response.status_code, code, message)

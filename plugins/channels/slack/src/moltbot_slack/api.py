"""A small Slack Web API client: ``POST <base>/<method>`` with JSON and a Bearer token.

Slack answers errors with HTTP 200 and ``{"ok": false, "error": "<code>"}``. Rate limits come
as HTTP 429 with a ``Retry-After`` header (seconds): the call waits that long and tries again.
Token errors (``invalid_auth``, ``token_revoked``...) raise :class:`ChannelFatalError`, since
retrying cannot fix them; everything else raises :class:`SlackError` with Slack's code. Tokens
only travel in the ``Authorization`` header, and network errors are re-raised without details
that could hold them.
"""

from __future__ import annotations

from typing import Any

import httpx
import trio

from moltbot import ChannelFatalError
from moltbot.channels.media import read_capped

MAX_RATE_LIMIT_RETRIES = 5
DEFAULT_RETRY_AFTER = 1.0
"""Seconds to wait on a ``ratelimited`` answer that names no ``Retry-After``."""
FATAL_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


class SlackError(Exception):
    """A Web API error other than the fatal ones; ``error`` is Slack's code."""

    def __init__(self, method: str, error: str) -> None:
        self.method = method
        self.error = error
        super().__init__(f"Slack {method}: {error}")


class WebApi:
    """Calls with one token over a caller-owned ``httpx.AsyncClient``."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float, what: str = "botToken"
    ) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}
        self.timeout = timeout
        self.what = what
        """The config key holding the token, named in fatal errors."""

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, json_body: bool = False
    ) -> dict[str, Any]:
        """The response of ``method``; raises :class:`SlackError` or :class:`ChannelFatalError`.
        Parameters go form-encoded, which every method takes, or as JSON (``json_body``), which
        only write methods such as ``chat.postMessage`` accept."""
        body = {"json": params or {}} if json_body else {"data": params or {}}
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                response = await self.http.post(
                    f"{self.base}/{method}",
                    **body,
                    headers=self.headers,
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                raise ConnectionError(f"Slack {method}: {type(exc).__name__}") from None
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            if response.status_code == 200 and isinstance(answer, dict) and answer.get("ok") is True:
                return answer
            error = str(
                (answer.get("error") if isinstance(answer, dict) else None) or f"http_{response.status_code}"
            )
            if response.status_code == 429 or error == "ratelimited":
                if attempt < MAX_RATE_LIMIT_RETRIES:
                    await trio.sleep(_retry_after(response))
                    continue
                raise SlackError(method, f"still rate limited after {MAX_RATE_LIMIT_RETRIES} retries")
            if error in FATAL_ERRORS:
                raise ChannelFatalError(
                    f"Slack refused the {self.what} ({error} from {method}); put a valid token in"
                    f" channels.slack.{self.what}"
                )
            raise SlackError(method, error)
        raise AssertionError("unreachable")

    async def download(self, url: str, *, limit: int, html_ok: bool = False) -> bytes:
        """The bytes of a file's ``url_private_download`` (the token goes in the header);
        :class:`MediaTooLarge` past ``limit``. Slack answers a request it cannot authenticate
        with its HTML sign-in page, so an HTML answer counts as a failure unless the file
        itself is HTML (``html_ok``)."""
        try:
            async with self.http.stream("GET", url, headers=self.headers, timeout=self.timeout) as response:
                if response.status_code != 200:
                    raise SlackError("file download", f"HTTP {response.status_code}")
                if not html_ok and response.headers.get("content-type", "").startswith("text/html"):
                    raise SlackError("file download", "Slack answered with a sign-in page (files:read?)")
                return await read_capped(response, limit)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"Slack file download: {type(exc).__name__}") from None


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", DEFAULT_RETRY_AFTER)))
    except ValueError:
        return DEFAULT_RETRY_AFTER

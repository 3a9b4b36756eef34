"""A small Bot API client: ``POST <base>/bot<token>/<method>`` with JSON, Telegram's errors.

Every response is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code",
"description", "parameters"?}``. 429 is retried after ``parameters.retry_after`` seconds;
401 (bad token) and 409 (another getUpdates consumer or a webhook is set) are fatal because
retrying cannot fix them. Files are fetched from ``<base>/file/bot<token>/<file_path>``.
Network errors are re-raised without the URL: every URL here holds the token.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import trio

from moltbot import ChannelFatalError
from moltbot.channels.media import read_capped

MAX_RATE_LIMIT_RETRIES = 5


class TelegramError(Exception):
    """A Bot API error other than the fatal ones."""

    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        self.code = code
        self.description = description
        self.retry_after = retry_after
        super().__init__(f"Telegram error {code}: {description}")


class BotApi:
    """Calls for one bot over a caller-owned ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float) -> None:
        self.http = http
        self.root = base_url.rstrip("/")
        self.base = f"{self.root}/bot{token}"
        self._token = token
        self.timeout = timeout

    def redact(self, text: str) -> str:
        """``text`` with the bot token masked (for anything that reaches logs or the agent)."""
        return text.replace(self._token, "<bot token>")

    async def download(self, file_path: str, *, limit: int) -> bytes:
        """The bytes behind a ``getFile`` ``file_path``; :class:`MediaTooLarge` past ``limit``
        (refused by ``Content-Length`` before the body is read, or as soon as it is exceeded)."""
        url = f"{self.root}/file/bot{self._token}/{quote(file_path)}"
        try:
            async with self.http.stream("GET", url, timeout=self.timeout) as response:
                if response.status_code != 200:
                    raise TelegramError(
                        response.status_code, f"file download answered {response.status_code}"
                    )
                return await read_capped(response, limit)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"Telegram file download: {type(exc).__name__}") from None

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """The ``result`` of ``method``; raises :class:`TelegramError` or :class:`ChannelFatalError`."""
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            try:
                response = await self.http.post(
                    f"{self.base}/{method}", json=params or {}, timeout=timeout or self.timeout
                )
            except httpx.HTTPError as exc:
                raise ConnectionError(f"Telegram {method}: {type(exc).__name__}") from None
            try:
                body = response.json()
            except ValueError:
                raise TelegramError(response.status_code, f"{method}: the response is not JSON") from None
            if body.get("ok") is True:
                return body.get("result")
            code = int(body.get("error_code") or response.status_code)
            description = str(body.get("description") or response.reason_phrase)
            retry_after = (body.get("parameters") or {}).get("retry_after")
            if code == 429 and retry_after is not None and attempt < MAX_RATE_LIMIT_RETRIES:
                await trio.sleep(float(retry_after))
                continue
            if code == 401:
                raise ChannelFatalError(
                    "Telegram rejected the bot token (401 Unauthorized); set channels.telegram.botToken"
                    " to the token @BotFather gave you"
                )
            if code == 409:
                raise ChannelFatalError(
                    f"Telegram {method}: {description} (another process polls this bot or set a webhook"
                    " for it since this channel started; stop the other instance)"
                )
            raise TelegramError(code, description, retry_after)
        raise TelegramError(429, f"{method}: still rate limited after {MAX_RATE_LIMIT_RETRIES} retries")

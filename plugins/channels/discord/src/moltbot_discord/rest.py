"""A small Discord REST client: ``Authorization: Bot <token>``, JSON bodies, Discord's errors
and rate limits.

Rate limits: a 429 answer carries ``{"retry_after": <seconds, float>, "global": bool}``; the
call waits that long and is tried again (at most :data:`MAX_RATE_LIMIT_RETRIES` times). A
global 429 holds back every route. Besides, when a response says its bucket is used up
(``X-RateLimit-Remaining: 0``), the next call on that route first waits
``X-RateLimit-Reset-After`` seconds, so a burst of chunks is paced instead of refused.
401 means the token is wrong or revoked: :class:`ChannelFatalError`, a retry cannot help.
"""

from __future__ import annotations

from typing import Any

import httpx
import trio

from moltbot import ChannelFatalError
from moltbot.channels.media import read_capped

MAX_RATE_LIMIT_RETRIES = 5
USER_AGENT = "DiscordBot (https://github.com/moltbot/moltbot, 0.1.0)"


class DiscordError(Exception):
    """A REST error other than 401: HTTP ``status`` and Discord's JSON error ``code``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"Discord error {status} (code {code}): {message}")


class DiscordRest:
    """Calls for one bot over a caller-owned ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token: str,
        *,
        timeout: float,
        blocked_until: dict[str, float] | None = None,
    ) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bot {token}", "User-Agent": USER_AGENT}
        self._blocked_until = blocked_until if blocked_until is not None else {}
        """Route (``"POST /channels/1/messages"``, or ``"*"`` for a global limit) -> trio time
        before which it must not be called; shared by every client of one bot."""

    async def _wait_for(self, route: str) -> None:
        until = max(self._blocked_until.get(route, 0.0), self._blocked_until.get("*", 0.0))
        delay = until - trio.current_time()
        if delay > 0:
            await trio.sleep(delay)

    def _note_bucket(self, route: str, response: httpx.Response) -> None:
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset_after = float(response.headers.get("x-ratelimit-reset-after") or 0)
            self._blocked_until[route] = trio.current_time() + reset_after

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer (None for 204); raises :class:`DiscordError`,
        :class:`ChannelFatalError` (401) or :class:`ConnectionError` (network)."""
        route = f"{method} {path}"
        for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
            await self._wait_for(route)
            try:
                response = await self.http.request(
                    method, f"{self.base}{path}", json=body, headers=self._headers, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                raise ConnectionError(f"Discord {route}: {type(exc).__name__}") from None
            self._note_bucket(route, response)
            if response.status_code == 204:
                return None
            try:
                payload = response.json()
            except ValueError:
                payload = None
            if response.is_success:
                return payload
            error = payload if isinstance(payload, dict) else {}
            if response.status_code == 429 and attempt < MAX_RATE_LIMIT_RETRIES:
                retry_after = float(error.get("retry_after") or response.headers.get("retry-after") or 1)
                scope = "*" if error.get("global") else route
                self._blocked_until[scope] = trio.current_time() + retry_after
                continue
            if response.status_code == 401:
                raise ChannelFatalError(
                    "Discord rejected the bot token (401 Unauthorized); set channels.discord.botToken to"
                    " the token of the bot (Developer Portal, Bot, Reset Token)"
                )
            message = str(error.get("message") or response.reason_phrase)
            raise DiscordError(response.status_code, int(error.get("code") or 0), message)
        raise DiscordError(429, 0, f"{route}: still rate limited after {MAX_RATE_LIMIT_RETRIES} retries")

    async def download(self, url: str, *, limit: int) -> bytes:
        """An attachment's bytes from Discord's CDN (no Authorization header: the CDN needs none
        and must never see the token); :class:`MediaTooLarge` past ``limit``."""
        try:
            async with self.http.stream(
                "GET", url, headers={"User-Agent": USER_AGENT}, timeout=self.timeout
            ) as response:
                if response.status_code != 200:
                    raise DiscordError(response.status_code, 0, f"the CDN answered {response.status_code}")
                return await read_capped(response, limit)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"attachment download: {type(exc).__name__}") from None

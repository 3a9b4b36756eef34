"""One HTTP client for as long as a channel's ``run`` is up, shared with its sends.

``send`` and ``set_typing`` may be called while ``run`` is down (restarting, or a CLI-driven
send); they then get a short-lived client of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx


class RunClient:
    def __init__(self) -> None:
        self._http: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[httpx.AsyncClient]:
        """The client of one ``run``; closed when the block ends."""
        async with httpx.AsyncClient() as http:
            self._http = http
            try:
                yield http
            finally:
                self._http = None

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The running client, or a short-lived one while ``run`` is not up."""
        if self._http is not None:
            yield self._http
            return
        async with httpx.AsyncClient() as http:
            yield http

"""Helpers for provider plugin tests against the fake model servers.

:class:`ProviderFactory` builds a test's providers and, on exit, closes them and fails if a
connection to a fake was left open; :func:`outcome` tells how a stream ended;
:func:`open_sockets` lists this process's live connections to a fake.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import psutil
import trio

from moltbot.interfaces.provider import ModelProvider, ProviderError, StreamEvent
from moltbot.models.config import ProviderConfig
from moltbot.specs import BuildContext
from moltbot.testing import build_context


def open_sockets(base_url: str) -> list[str]:
    """This process's TCP connections to ``base_url``'s port that are still open (a closed
    socket has no file descriptor left, whatever state the kernel keeps it in)."""
    port = httpx.URL(base_url).port
    return [
        f"{c.laddr.ip}:{c.laddr.port} -> {c.raddr.ip}:{c.raddr.port} {c.status}"
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == port
    ]


async def outcome(events: AsyncIterator[StreamEvent], *, cancel_after: float = 1.0) -> str:
    """How a provider's stream ends: ``"answered"``, the :class:`ProviderError` kind, or
    ``"cancelled"`` when it is still running after ``cancel_after`` seconds."""
    with trio.move_on_after(cancel_after) as scope:
        try:
            async with aclosing(events) as stream:
                async for _ in stream:
                    pass
        except ProviderError as exc:
            return exc.kind
    return "cancelled" if scope.cancelled_caught else "answered"


P = TypeVar("P", bound=ModelProvider)


class ProviderFactory(Generic[P]):
    """Builds one plugin's providers for a test and, on exit, closes each one with :meth:`close`
    (a leaked connection otherwise shows only as a ResourceWarning at interpreter exit). Enter it
    in a fixture the test requests by name: pytest-trio never runs an autouse async fixture
    (python-trio/pytest-trio#123)."""

    def __init__(self, factory: Callable[[ProviderConfig, BuildContext], P], state: Path) -> None:
        self.factory = factory
        self.state = state
        self.built: list[tuple[P, str]] = []

    def __call__(self, config: Mapping[str, Any], name: str) -> P:
        built = self.factory(ProviderConfig.model_validate(config), build_context(self.state, name))
        self.built.append((built, str(config.get("baseUrl", ""))))
        return built

    async def __aenter__(self) -> ProviderFactory[P]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close(*(provider for provider, _ in self.built))

    async def check_released(self, provider: P) -> None:
        """After an exchange ended in any way, its connection is back in the pool (the next call,
        a model listing, reuses it) or closed (the next call opens the only one); then closing
        ``provider`` leaves no socket, and no garbage with an unclosed resource."""
        url = next(url for built, url in self.built if built is provider)
        before = open_sockets(url)
        await provider.list_models()
        if len(after := open_sockets(url)) > 1 or (before and after != before):
            raise AssertionError(f"the connection was not released: {before} then {after}")
        await self.close(provider, collect=True)

    async def close(self, *providers: P, collect: bool = False) -> None:
        """Close ``providers``, then fail if a socket to one of their servers is still open or,
        with ``collect`` (a full collection costs ~0.1 s), if collecting garbage warns of an
        unclosed resource."""
        urls = {url for built, url in self.built if url and any(built is p for p in providers)}
        with warnings.catch_warnings(record=True) as caught, trio.CancelScope(shield=True):
            warnings.simplefilter("always")
            for provider in providers:
                await provider.aclose()
            if collect:
                gc.collect()
        leaked = [s for url in sorted(urls) for s in open_sockets(url)]
        if leaked := leaked + [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]:
            raise AssertionError(f"left open after the providers were closed: {leaked}")

"""Conformance suite for cache backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import trio

from moltbot.interfaces import (
    CacheBackend,
)
from moltbot.testing.conformance._common import wait_until


@dataclass
class ExpiryHarness:
    """How a cache-backend conformance test makes time pass."""

    ttl: float
    """A TTL in seconds short enough to wait out in a test."""
    advance: Callable[[float], Awaitable[None]]
    """Let ``seconds`` pass for the backend: a real sleep for server-side expiry, or moving an
    injected clock forward."""


class CacheBackendConformance:
    """Provide an async ``backend`` fixture returning a fresh :class:`CacheBackend`.

    Expiry tests use the ``expiry`` fixture: by default a TTL of 0.2 s and real sleeps (right for
    servers with native expiry, like Redis); a backend with an injectable clock overrides it to
    move the clock instead.
    """

    @pytest.fixture
    def expiry(self) -> ExpiryHarness:
        return ExpiryHarness(ttl=0.2, advance=trio.sleep)

    async def test_set_get_delete(self, backend: CacheBackend) -> None:
        assert await backend.get("ns:a") is None
        await backend.set("ns:a", b"\x00value", None)
        assert await backend.get("ns:a") == b"\x00value"
        await backend.set("ns:a", b"newer", None)
        assert await backend.get("ns:a") == b"newer"
        await backend.delete("ns:a")
        assert await backend.get("ns:a") is None
        await backend.delete("ns:a")  # deleting a missing key is not an error

    async def test_clear_by_prefix(self, backend: CacheBackend) -> None:
        for key in ("one:a", "one:b", "two:a"):
            await backend.set(key, b"x", None)
        assert await backend.clear("one:") == 2
        assert await backend.get("one:a") is None
        assert await backend.get("two:a") == b"x"

    async def test_clear_prefix_is_literal_not_a_pattern(self, backend: CacheBackend) -> None:
        for key in ("a*:1", "a?:1", "a[b]:1", "ab:1", "a%:1", "a_:1"):
            await backend.set(key, b"x", None)
        assert await backend.clear("a*:") == 1
        assert await backend.clear("a[b]:") == 1
        assert await backend.clear("a%:") == 1
        assert await backend.get("ab:1") == b"x" and await backend.get("a?:1") == b"x"
        assert await backend.get("a_:1") == b"x"
        assert await backend.clear("") == 3

    async def test_entry_expires_after_its_ttl(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:short", b"soon gone", expiry.ttl)
        assert await backend.get("ttl:short") == b"soon gone"
        await expiry.advance(expiry.ttl * 1.5)

        async def gone() -> bool:
            return await backend.get("ttl:short") is None

        await wait_until(gone, "the entry to expire")

    async def test_ttls_are_per_entry(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:short", b"s", expiry.ttl)
        await backend.set("ttl:long", b"l", expiry.ttl * 50)
        await backend.set("ttl:none", b"n", None)
        await expiry.advance(expiry.ttl * 1.5)

        async def short_gone() -> bool:
            return await backend.get("ttl:short") is None

        await wait_until(short_gone, "the short entry to expire")
        assert await backend.get("ttl:long") == b"l"
        assert await backend.get("ttl:none") == b"n"

    async def test_overwrite_replaces_the_ttl(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:k", b"old", expiry.ttl)
        await backend.set("ttl:k", b"new", None)
        await backend.set("ttl:j", b"old", None)
        await backend.set("ttl:j", b"new", expiry.ttl)
        await expiry.advance(expiry.ttl * 1.5)

        async def j_gone() -> bool:
            return await backend.get("ttl:j") is None

        await wait_until(j_gone, "the entry given a TTL on overwrite to expire")
        assert await backend.get("ttl:k") == b"new"

    async def test_binary_values_of_every_byte_and_size(self, backend: CacheBackend) -> None:
        every_byte = bytes(range(256)) * 4096  # 1 MiB
        await backend.set("bin:big", every_byte, None)
        await backend.set("bin:empty", b"", None)
        assert await backend.get("bin:big") == every_byte
        assert await backend.get("bin:empty") == b""

    async def test_concurrent_writers_all_land(self, backend: CacheBackend) -> None:
        async def write(i: int) -> None:
            await backend.set(f"many:{i}", str(i).encode(), None)

        async with trio.open_nursery() as nursery:
            for i in range(40):
                nursery.start_soon(write, i)
        for i in range(40):
            assert await backend.get(f"many:{i}") == str(i).encode()

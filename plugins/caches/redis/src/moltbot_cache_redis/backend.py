"""The Redis backend: ``SET key value PX ttl``, so expiry is Redis's own.

coredis runs on trio (through anyio) and binds its connection pool to a task, so the backend is
an async context manager: the cache service enters it for the gateway's lifetime, and
``moltbot cache`` for one command. Keys are ``<keyPrefix><namespace>:<hash>``; a prefix per
deployment lets several gateways share (or not share) one Redis database.
"""

from __future__ import annotations

import re
from collections import Counter
from types import TracebackType
from typing import Any

import coredis

from moltbot import CacheBackend
from moltbot.specs import BuildContext
from moltbot_cache_redis.config import RedisCacheConfig

SCAN_BATCH = 500
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


class RedisBackend(CacheBackend):
    """One coredis client; must be entered (``async with backend:``) before use."""

    def __init__(self, config: RedisCacheConfig, ctx: BuildContext | None = None) -> None:
        self.prefix = config.key_prefix
        self.url = config.url
        self.client: coredis.Redis[bytes] = coredis.Redis.from_url(
            config.url,
            connect_timeout=config.connect_timeout / 1000,
            stream_timeout=config.timeout / 1000,
        )

    async def __aenter__(self) -> RedisBackend:
        await self.client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.__aexit__(exc_type, exc, tb)

    async def get(self, key: str) -> bytes | None:
        return await self.client.get(self.prefix + key)

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        if ttl is None:
            await self.client.set(self.prefix + key, value)
        else:
            await self.client.set(self.prefix + key, value, px=max(1, round(ttl * 1000)))

    async def delete(self, key: str) -> None:
        await self.client.delete([self.prefix + key])

    async def clear(self, prefix: str = "") -> int:
        removed = 0
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=self._pattern(prefix), count=SCAN_BATCH):
            batch.append(key)
            if len(batch) >= SCAN_BATCH:
                removed += await self.client.unlink(batch)
                batch = []
        if batch:
            removed += await self.client.unlink(batch)
        return removed

    async def stats(self) -> dict[str, Any]:
        """Entries per namespace under this prefix (SCAN, so safe on a busy server)."""
        namespaces: Counter[str] = Counter()
        skip = len(self.prefix.encode())
        async for key in self.client.scan_iter(match=self._pattern(""), count=SCAN_BATCH):
            namespaces[key[skip:].split(b":", 1)[0].decode(errors="replace")] += 1
        return {
            "url": _redact(self.url),
            "keyPrefix": self.prefix,
            "entries": sum(namespaces.values()),
            "bytes": None,
            "namespaces": {name: {"entries": n} for name, n in sorted(namespaces.items())},
        }

    def _pattern(self, prefix: str) -> str:
        return _GLOB_SPECIAL.sub(r"\\\1", self.prefix + prefix) + "*"


def _redact(url: str) -> str:
    """The URL without its password, for statistics output."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)

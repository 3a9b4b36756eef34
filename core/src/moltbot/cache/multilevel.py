"""The cache subsystems use: memory LRU in front of a backend plugin (``app.services["cache"]``)."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio
from loguru import logger

from moltbot.cache.codec import cache_key, check_namespace, dumps, loads, unwrap, wrap
from moltbot.cache.memory import MemoryLRU
from moltbot.config.model import CacheConfig
from moltbot.interfaces.cache import CacheBackend
from moltbot.interfaces.service import Service
from moltbot.metrics import MetricsRegistry

LOG_EVERY = 30.0
"""Seconds between log lines about a failing backend (the count of failures is kept)."""
_MISS = object()


class Cache(Service):
    """Two levels with per-entry TTL, namespaced hashed keys and JSON values.

    ``get`` looks in memory, then in the backend, promoting a backend hit into memory with its
    remaining lifetime. ``set`` writes both levels. A failing backend costs a miss and a log
    line, never an exception in the caller. ``run`` owns the backend (enters it when it is an
    async context manager, closes it at shutdown), registers :meth:`shed` with the resource
    manager and evicts expired memory entries every ``cache.evictionInterval`` ms.
    """

    def __init__(
        self,
        config: CacheConfig,
        backend: CacheBackend | None,
        *,
        metrics: MetricsRegistry | None = None,
        clock: Callable[[], float] = time.time,
        resources: Callable[[], Any] | None = None,
    ) -> None:
        self.enabled = config.enabled
        self.default_ttl = config.ttl / 1000
        self.eviction_interval = config.eviction_interval / 1000
        self.backend = backend
        self.metrics = metrics if metrics is not None else MetricsRegistry()
        self.clock = clock
        self.memory = MemoryLRU(config.memory_max_entries, config.memory_max_bytes, clock)
        self._resources = resources
        self.backend_errors = 0
        self._logged_at = -math.inf
        self._counts = {"memoryHits": 0, "backendHits": 0, "misses": 0}

    # ------------------------------------------------------------ data path

    def namespace(self, namespace: str) -> CacheNamespace:
        """A view bound to one namespace, for a subsystem to keep."""
        return CacheNamespace(self, check_namespace(namespace))

    async def get(self, namespace: str, key: str, default: Any = None) -> Any:
        """The cached value, or ``default`` when absent or expired."""
        full = cache_key(check_namespace(namespace), key)
        payload = self.memory.get(full) if self.enabled else None
        if payload is not None:
            self._count(namespace, "memoryHits")
            return loads(payload)
        value = await self._from_backend(full) if self.enabled else _MISS
        if value is _MISS:
            self._count(namespace, "misses")
            return default
        self._count(namespace, "backendHits")
        return value

    async def _from_backend(self, full: str) -> Any:
        """The decoded value, promoted into memory, or ``_MISS``; bytes that are not one of our
        envelopes (another writer under the same prefix, damage) count as a backend failure."""
        if self.backend is None:
            return _MISS
        try:
            data = await self.backend.get(full)
            if data is None:
                return _MISS
            payload, expires = unwrap(data)
            value = loads(payload)
        except Exception as exc:
            self._failed("get", exc)
            return _MISS
        if expires is not None and expires <= self.clock():
            return _MISS
        self.memory.set(full, payload, expires)
        return value

    async def set(self, namespace: str, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (JSON-serialisable) for ``ttl`` seconds (default ``cache.ttl``)."""
        full = cache_key(check_namespace(namespace), key)
        payload = dumps(value)
        if not self.enabled:
            return
        lifetime = self.default_ttl if ttl is None else ttl
        expires = self.clock() + lifetime
        self.memory.set(full, payload, expires)
        if self.backend is not None:
            try:
                await self.backend.set(full, wrap(payload, expires), lifetime)
            except Exception as exc:
                self._failed("set", exc)

    async def delete(self, namespace: str, key: str) -> None:
        full = cache_key(check_namespace(namespace), key)
        self.memory.delete(full)
        if self.backend is not None:
            try:
                await self.backend.delete(full)
            except Exception as exc:
                self._failed("delete", exc)

    async def clear(self, namespace: str | None = None) -> int:
        """Remove one namespace (or everything) from both levels; the count is the backend's
        when there is one. Unlike the data path, a backend failure here raises."""
        prefix = f"{check_namespace(namespace)}:" if namespace else ""
        removed = self.memory.clear(prefix)
        if self.backend is not None:
            removed = await self.backend.clear(prefix)
        return removed

    def shed(self) -> int:
        """Drop the whole memory level (memory pressure); returns the bytes it held."""
        freed = self.memory.bytes
        self.memory.clear()
        return freed

    # ------------------------------------------------------------ service

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        manager = self._resources() if self._resources else None
        if manager is not None:
            manager.register_shedder("cache", self.shed)
        async with opened(self.backend):
            task_status.started()
            while True:
                await trio.sleep(self.eviction_interval)
                self.memory.evict_expired()

    def stats(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "backend": type(self.backend).__name__ if self.backend else None,
            "memory": {
                "entries": len(self.memory),
                "bytes": self.memory.bytes,
                "maxEntries": self.memory.max_entries,
                "maxBytes": self.memory.max_bytes,
                "evictions": self.memory.evictions,
            },
            **self._counts,
            "backendErrors": self.backend_errors,
        }

    def status(self) -> dict[str, Any]:
        return self.stats()

    def _count(self, namespace: str, what: str) -> None:
        self._counts[what] += 1
        self.metrics.inc("cache.misses" if what == "misses" else "cache.hits", namespace=namespace)

    def _failed(self, operation: str, exc: Exception) -> None:
        self.backend_errors += 1
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            logger.warning(
                "cache backend {} failed on {} ({}: {}); serving from memory only ({} failures so far)",
                type(self.backend).__name__,
                operation,
                type(exc).__name__,
                exc,
                self.backend_errors,
            )


class CacheNamespace:
    """``Cache`` methods with the namespace filled in."""

    def __init__(self, cache: Cache, namespace: str) -> None:
        self.cache = cache
        self.name = namespace

    async def get(self, key: str, default: Any = None) -> Any:
        return await self.cache.get(self.name, key, default)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.cache.set(self.name, key, value, ttl)

    async def delete(self, key: str) -> None:
        await self.cache.delete(self.name, key)

    async def clear(self) -> int:
        return await self.cache.clear(self.name)


@asynccontextmanager
async def opened(backend: CacheBackend | None) -> AsyncIterator[CacheBackend | None]:
    """Hold ``backend`` open: enter it when it is an async context manager (connection pools
    bound to a task, like coredis), and always ``aclose`` it at the end."""
    try:
        if backend is not None and hasattr(backend, "__aenter__"):
            async with backend:  # type: ignore[attr-defined]
                yield backend
        else:
            yield backend
    finally:
        if backend is not None:
            with trio.CancelScope(shield=True):
                await backend.aclose()

"""The built-in ``disk`` cache backend (``cache.backend: "disk"``, the default)."""

from __future__ import annotations

from collections.abc import Iterator

from moltbot import hookimpl
from moltbot.cache.disk import DiskBackend, DiskCacheConfig
from moltbot.specs import CacheBackendSpec


@hookimpl
def moltbot_register_cache_backends() -> Iterator[CacheBackendSpec]:
    yield CacheBackendSpec(
        name="disk",
        factory=DiskBackend,
        config=DiskCacheConfig,
        summary="SQLite file under the state dir; safe for several processes and crashes",
    )

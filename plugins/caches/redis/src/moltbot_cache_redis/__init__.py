"""moltbot-cache-redis: ``cache.backend: "redis"`` stores the second cache level in Redis."""

from __future__ import annotations

from collections.abc import Iterator

from moltbot import CacheBackendSpec, hookimpl


@hookimpl
def moltbot_register_cache_backends() -> Iterator[CacheBackendSpec]:
    from moltbot_cache_redis.backend import RedisBackend, RedisCacheConfig

    yield CacheBackendSpec(
        name="redis",
        factory=RedisBackend,
        config=RedisCacheConfig,
        summary="Redis with native TTL; several gateways can share one cache",
    )

"""moltbot-cache-redis: ``cache.backend: "redis"`` stores the second cache level in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from moltbot import BuildContext, CacheBackendSpec, hookimpl

if TYPE_CHECKING:
    from moltbot_cache_redis.backend import RedisBackend
    from moltbot_cache_redis.config import RedisCacheConfig


def _build(config: RedisCacheConfig, ctx: BuildContext) -> RedisBackend:
    """Import coredis only when the Redis backend is actually used."""
    from moltbot_cache_redis.backend import RedisBackend

    return RedisBackend(config, ctx)


@hookimpl
def moltbot_register_cache_backends() -> Iterator[CacheBackendSpec]:
    from moltbot_cache_redis.config import RedisCacheConfig

    yield CacheBackendSpec(
        name="redis",
        factory=_build,
        config=RedisCacheConfig,
        summary="Redis with native TTL; several gateways can share one cache",
    )

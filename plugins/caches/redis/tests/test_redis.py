"""The Redis backend against a real redis-server: conformance, sharing, outages."""

import gc
import uuid

import pytest
import trio
from moltbot_cache_redis.backend import RedisBackend, RedisCacheConfig

from moltbot.cache import Cache, opened
from moltbot.config.model import CacheConfig
from moltbot.plugins import load_plugins
from moltbot.testing.conformance import CacheBackendConformance

from .conftest import _free_port, start_redis, stop_redis


def backend_for(url, prefix=None, **config):
    prefix = prefix or f"test:{uuid.uuid4().hex}:"
    return RedisBackend(RedisCacheConfig(url=url, key_prefix=prefix, **config))


class TestRedisConformance(CacheBackendConformance):
    """Expiry uses the suite's default: a 0.2 s TTL and real sleeps, since Redis expires keys itself."""

    @pytest.fixture
    async def backend(self, redis_server):
        async with backend_for(redis_server.url) as backend:
            yield backend


def test_plugin_is_installed_and_registered():
    plugins = load_plugins()
    assert plugins.owner("cache_backends", "redis").distribution == "moltbot-cache-redis"


async def test_ttl_is_native(redis_server):
    async with backend_for(redis_server.url, prefix="native:") as backend:
        await backend.set("ns:k", b"v", 120)
        ttl_ms = await backend.client.pttl("native:ns:k")
        assert 119_000 < ttl_ms <= 120_000
        await backend.set("ns:k", b"v", None)
        assert await backend.client.pttl("native:ns:k") == -1
        await backend.clear()


async def test_two_gateways_share_one_cache(redis_server):
    prefix = f"shared:{uuid.uuid4().hex}:"
    config = CacheConfig()
    async with backend_for(redis_server.url, prefix) as one, backend_for(redis_server.url, prefix) as two:
        first, second = Cache(config, one), Cache(config, two)
        await first.set("sessions", "user-1", {"turns": 3})
        assert await second.get("sessions", "user-1") == {"turns": 3}
        assert second.stats()["backendHits"] == 1
        assert (await two.stats())["namespaces"] == {"sessions": {"entries": 1}}
        await second.clear("sessions")
        first.shed()
        assert await first.get("sessions", "user-1") is None


async def test_prefixes_keep_deployments_apart(redis_server):
    async with backend_for(redis_server.url) as one, backend_for(redis_server.url) as two:
        await one.set("ns:k", b"one", None)
        assert await two.get("ns:k") is None
        assert await two.clear() == 0
        assert await one.get("ns:k") == b"one"


# coredis 6.9 creates a connection's anyio memory streams in __init__ and closes them only when
# the connection was established, so each refused connect leaks six streams (ResourceWarning at
# garbage collection). That is coredis's bookkeeping, not ours; only those warnings are ignored.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_outage_is_a_miss_and_the_cache_recovers(tmp_path):
    port = _free_port()
    process = start_redis(port, tmp_path)
    cache = Cache(CacheConfig(), backend_for(f"redis://127.0.0.1:{port}/0", connect_timeout=300, timeout=300))
    try:
        async with opened(cache.backend):
            await cache.set("ns", "k", "v")
            stop_redis(process)
            cache.shed()
            with trio.fail_after(10):
                assert await cache.get("ns", "k") is None
                await cache.set("ns", "k2", "memory only")
            assert await cache.get("ns", "k2") == "memory only"
            assert cache.backend_errors >= 2
            process = start_redis(port, tmp_path)
            with trio.fail_after(10):
                await cache.set("ns", "k3", "back")
                cache.shed()
                assert await cache.get("ns", "k3") == "back"
    finally:
        stop_redis(process)
        gc.collect()  # let coredis's leaked streams be reported inside this test


async def test_cache_service_runs_over_redis_from_settings(redis_server, tmp_path):
    from moltbot.app import App
    from moltbot.config import Settings, resolve_paths

    settings = Settings.model_validate(
        {"cache": {"backend": "redis", "config": {"url": redis_server.url, "keyPrefix": "svc:"}}}
    )
    plugins = load_plugins()
    app = App(paths=resolve_paths({"MOLTBOT_STATE_DIR": str(tmp_path)}), settings=settings, plugins=plugins)
    cache = plugins.services()["cache"].factory(app)
    assert isinstance(cache.backend, RedisBackend)
    async with trio.open_nursery() as nursery:
        await nursery.start(cache.run)
        await cache.set("ns", "k", [1, 2])
        cache.shed()
        assert await cache.get("ns", "k") == [1, 2]
        assert await cache.clear() == 1
        nursery.cancel_scope.cancel()


async def test_password_in_the_url_authenticates(tmp_path):
    port = _free_port()
    process = start_redis(port, tmp_path, "--requirepass", "s3cret")
    try:
        backend = backend_for(f"redis://:s3cret@127.0.0.1:{port}/0")
        async with backend:
            await backend.set("ns:k", b"v", 10)
            assert await backend.get("ns:k") == b"v"
            assert (await backend.stats())["url"] == f"redis://:***@127.0.0.1:{port}/0"
    finally:
        stop_redis(process)

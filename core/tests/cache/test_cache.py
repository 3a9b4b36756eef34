"""The multi-level cache over an in-memory backend, on trio's (mock) clock."""

import hashlib

import pytest
import trio

from moltbot.cache import Cache
from moltbot.cache.codec import wrap
from moltbot.config.model import CacheConfig, PerformanceConfig
from moltbot.interfaces.cache import CacheBackend
from moltbot.metrics import MetricsRegistry
from moltbot.resources import ResourceManager
from moltbot.system import MB, FixedProbe
from moltbot.testing import MemoryCacheBackend


def make_cache(backend=None, **config):
    settings = CacheConfig.model_validate({"ttl": 60_000, "evictionInterval": 10_000, **config})
    return Cache(
        settings,
        MemoryCacheBackend() if backend is None else backend,
        metrics=MetricsRegistry(),
        clock=trio.current_time,
    )


async def test_round_trip_of_json_values():
    cache = make_cache()
    value = {"text": "héllo", "n": [1, 2.5, None, True]}
    await cache.set("sessions", "user-1", value)
    assert await cache.get("sessions", "user-1") == value
    assert await cache.get("sessions", "nobody") is None
    assert await cache.get("sessions", "nobody", default="fallback") == "fallback"


async def test_returned_values_are_copies():
    cache = make_cache()
    await cache.set("ns", "k", {"list": [1]})
    got = await cache.get("ns", "k")
    got["list"].append(2)
    assert await cache.get("ns", "k") == {"list": [1]}


async def test_values_that_are_not_json_are_refused_clearly():
    cache = make_cache()
    with pytest.raises(TypeError, match="JSON-serialisable"):
        await cache.set("ns", "k", {1, 2})
    with pytest.raises(TypeError, match="JSON-serialisable"):
        await cache.set("ns", "k", float("nan"))


async def test_keys_are_hashed_under_their_namespace():
    backend = MemoryCacheBackend()
    cache = make_cache(backend)
    await cache.set("sessions", "k", 1)
    await cache.set("models", "k", 2)
    digest = hashlib.sha256(b"k").hexdigest()
    assert set(backend._data) == {f"sessions:{digest}", f"models:{digest}"}
    assert await cache.get("sessions", "k") == 1 and await cache.get("models", "k") == 2
    with pytest.raises(ValueError, match="namespace"):
        await cache.get("Bad:ns", "k")


async def test_default_and_per_entry_ttl(autojump_clock):
    cache = make_cache()
    await cache.set("ns", "default", "d")
    await cache.set("ns", "short", "s", ttl=5)
    await trio.sleep(6)
    assert await cache.get("ns", "short") is None
    assert await cache.get("ns", "default") == "d"
    await trio.sleep(55)
    assert await cache.get("ns", "default") is None


async def test_backend_hit_is_promoted_with_its_remaining_lifetime(autojump_clock):
    backend = MemoryCacheBackend()
    writer = make_cache(backend)
    await writer.set("ns", "k", "v", ttl=30)
    await trio.sleep(20)
    reader = make_cache(backend)  # another gateway sharing the backend
    assert await reader.get("ns", "k") == "v"
    assert reader.stats()["backendHits"] == 1 and len(reader.memory) == 1
    assert await reader.get("ns", "k") == "v"
    assert reader.stats()["memoryHits"] == 1
    await trio.sleep(11)
    assert await reader.get("ns", "k") is None, "the promoted copy must not outlive the original"


async def test_lru_bound_falls_back_to_the_backend(autojump_clock):
    cache = make_cache(memoryMaxEntries=2)
    for key in "abc":
        await cache.set("ns", key, key)
    assert len(cache.memory) == 2
    assert await cache.get("ns", "a") == "a"
    assert cache.stats()["backendHits"] == 1


async def test_hits_and_misses_are_counted_per_namespace():
    cache = make_cache()
    await cache.set("sessions", "k", 1)
    await cache.get("sessions", "k")
    await cache.get("sessions", "missing")
    await cache.get("models", "missing")
    counters = cache.metrics.counters
    assert counters[("cache.hits", (("namespace", "sessions"),))] == 1
    assert counters[("cache.misses", (("namespace", "sessions"),))] == 1
    assert counters[("cache.misses", (("namespace", "models"),))] == 1


class BrokenBackend(CacheBackend):
    async def get(self, key):
        raise ConnectionError("backend down")

    async def set(self, key, value, ttl):
        raise ConnectionError("backend down")

    async def delete(self, key):
        raise ConnectionError("backend down")

    async def clear(self, prefix=""):
        raise ConnectionError("backend down")


async def test_failing_backend_is_a_miss_and_a_log_line_not_an_error():
    from loguru import logger

    lines = []
    sink = logger.add(lines.append, level="WARNING")
    try:
        cache = make_cache(BrokenBackend())
        await cache.set("ns", "k", "v")
        assert await cache.get("ns", "k") == "v"  # memory still serves it
        assert await cache.get("ns", "other") is None
        await cache.delete("ns", "k")
    finally:
        logger.remove(sink)
    assert cache.backend_errors == 3
    assert len(lines) == 1 and "backend down" in lines[0]
    with pytest.raises(ConnectionError):
        await cache.clear("ns")  # an explicit clear must say it did not happen


async def test_clear_by_namespace_and_namespace_view():
    cache = make_cache()
    sessions = cache.namespace("sessions")
    await sessions.set("a", 1)
    await sessions.set("b", 2)
    await cache.set("models", "a", 3)
    assert await sessions.clear() == 2
    assert await sessions.get("a") is None
    assert await cache.get("models", "a") == 3
    await sessions.set("c", 4)
    await sessions.delete("c")
    assert await sessions.get("c", "gone") == "gone"


async def test_disabled_cache_stores_nothing():
    cache = make_cache(enabled=False)
    await cache.set("ns", "k", "v")
    assert await cache.get("ns", "k") is None


async def test_service_evicts_expired_entries_and_sheds_into_resources(autojump_clock):
    probe = FixedProbe(process_rss=100 * MB)
    resources = ResourceManager(
        PerformanceConfig.model_validate({"agents": {"gcThreshold": 500, "memoryLimit": 900}}), probe=probe
    )
    cache = Cache(
        CacheConfig.model_validate({"ttl": 60_000, "evictionInterval": 10_000}),
        MemoryCacheBackend(),
        clock=trio.current_time,
        resources=lambda: resources,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(cache.run)
        await cache.set("ns", "short", "s", ttl=5)
        await cache.set("ns", "long", "l")
        await trio.sleep(11)
        assert len(cache.memory) == 1, "the sweep removed the expired entry"
        probe.process_rss = 600 * MB
        resources.check()
        assert len(cache.memory) == 0 and cache.memory.bytes == 0
        assert await cache.get("ns", "long") == "l", "shedding drops memory, the backend keeps it"
        nursery.cancel_scope.cancel()


async def test_foreign_or_damaged_backend_bytes_are_a_miss():
    backend = MemoryCacheBackend()
    cache = make_cache(backend)
    digest = hashlib.sha256(b"k").hexdigest()
    await backend.set(f"ns:{digest}", b"\x01", None)  # shorter than the envelope header
    assert await cache.get("ns", "k", "miss") == "miss"
    await backend.set(f"ns:{digest}", wrap(b"{not json", None), None)
    assert await cache.get("ns", "k", "miss") == "miss"
    assert cache.backend_errors == 2 and len(cache.memory) == 0


async def test_json_null_is_a_hit_distinct_from_a_miss():
    cache = make_cache()
    await cache.set("ns", "k", None)
    assert await cache.get("ns", "k", "miss") is None
    cache.shed()
    assert await cache.get("ns", "k", "miss") is None
    assert cache.stats()["misses"] == 0

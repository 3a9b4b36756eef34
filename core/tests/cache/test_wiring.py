"""The built-in plugins wire the cache and the resource manager into an App as services."""

from dataclasses import dataclass
from typing import Any

import pytest
import trio

from moltbot import RpcError
from moltbot.app import App
from moltbot.cache import Cache, opened
from moltbot.cache.disk import DiskBackend
from moltbot.config import Settings, resolve_paths
from moltbot.resources import ResourceManager
from moltbot.testing import make_plugins


async def test_services_run_together_over_the_disk_backend(tmp_path):
    plugins = make_plugins()
    assert "disk" in plugins.cache_backends() and "cache" in plugins.commands()
    assert {"cache.stats", "cache.clear"} <= set(plugins.gateway_methods())
    specs = plugins.services()
    assert specs["cache"].after == ("resources",)
    app = App(paths=resolve_paths({"MOLTBOT_STATE_DIR": str(tmp_path)}), settings=Settings(), plugins=plugins)
    async with trio.open_nursery() as nursery:
        for name in ("resources", "cache"):
            app.services[name] = specs[name].factory(app)
            await nursery.start(app.services[name].run)
        resources: ResourceManager = app.services["resources"]
        cache: Cache = app.services["cache"]
        assert isinstance(cache.backend, DiskBackend)
        assert "cache" in resources._shedders
        await cache.set("ns", "k", {"v": 1})
        assert await cache.get("ns", "k") == {"v": 1}
        assert app.metrics.counter("cache.hits") == 1
        assert resources.status()["system"]["processRssMb"] > 0
        nursery.cancel_scope.cancel()
    assert (tmp_path / "cache" / "cache.sqlite3").exists()


@dataclass
class Call:
    """What a gateway method handler receives (the RpcContext protocol)."""

    app: App
    params: Any = None
    method: str = "cache.stats"
    conn_id: str = "c1"
    role: str = "operator"
    scopes: frozenset[str] = frozenset({"operator.admin"})


async def test_gateway_methods_report_and_clear_both_levels(tmp_path):
    plugins = make_plugins()
    app = App(paths=resolve_paths({"MOLTBOT_STATE_DIR": str(tmp_path)}), settings=Settings(), plugins=plugins)
    cache = app.services["cache"] = plugins.services()["cache"].factory(app)
    methods = plugins.gateway_methods()
    async with opened(cache.backend):
        await cache.set("sessions", "a", 1)
        await cache.set("models", "b", 2)
        stats = await methods["cache.stats"].handler(Call(app))
        assert stats["memory"]["entries"] == 2
        assert stats["backendStats"]["namespaces"]["sessions"]["entries"] == 1
        params = methods["cache.clear"].params.model_validate({"namespace": "sessions"})
        cleared = await methods["cache.clear"].handler(Call(app, params, "cache.clear"))
        assert cleared == {"removed": 1, "namespace": "sessions"}
        assert await cache.get("sessions", "a") is None and await cache.get("models", "b") == 2
        bad = methods["cache.clear"].params.model_validate({"namespace": "No Way"})
        with pytest.raises(RpcError) as info:
            await methods["cache.clear"].handler(Call(app, bad, "cache.clear"))
        assert info.value.code == "INVALID_REQUEST"

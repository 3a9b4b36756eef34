"""The built-in plugins wire the cache and the resource manager into an App as services."""

import trio

from moltbot.app import App
from moltbot.cache import Cache
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

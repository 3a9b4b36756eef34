"""``moltbot cache stats`` as a separate process against a running gateway: both levels."""

import json
import os
import sys
from pathlib import Path

import trio

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.server import Gateway
from moltbot.plugins import load_plugins

MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
TOKEN = "cache-cli-test-token-0123456789abcdef"


async def moltbot(state: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "MOLTBOT_STATE_DIR": str(state)}
    env.pop("MOLTBOT_CONFIG_PATH", None)
    done = await trio.run_process(
        [MOLTBOT, *args], capture_stdout=True, capture_stderr=True, check=False, env=env
    )
    return done.returncode, (done.stdout + done.stderr).decode()


async def test_stats_come_from_the_running_gateway(moltbot_home: Path) -> None:
    env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"gateway": {"auth": {"mode": "token", "token": TOKEN}}})
    plugins = load_plugins()
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    specs = plugins.services()
    async with trio.open_nursery() as nursery:
        for name in ("resources", "cache"):
            app.services[name] = specs[name].factory(app)
            await nursery.start(app.services[name].run)
        cache = app.services["cache"]
        await cache.set("sessions", "a", {"v": 1})
        assert await cache.get("sessions", "a") == {"v": 1}  # a memory hit only the gateway knows
        gateway = Gateway(app, port=0)
        app.services["gateway"] = gateway
        url = (await nursery.start(gateway.run))[0]

        code, out = await moltbot(moltbot_home, "cache", "stats", "--json", "--url", url)
        assert code == 0, out
        stats = json.loads(out)
        assert (stats["source"], stats["gateway"], stats["backend"]) == ("gateway", url, "disk")
        assert stats["memory"]["entries"] == 1 and stats["memoryHits"] == 1
        assert stats["entries"] == 1 and stats["namespaces"]["sessions"]["entries"] == 1

        code, out = await moltbot(moltbot_home, "cache", "stats", "--url", url)
        assert code == 0, out
        assert out.startswith(f"source: the running gateway at {url} (cache.stats)")
        assert "memory level: 1 of 1000 entries" in out and "hits: 1 memory, 0 backend" in out

        code, out = await moltbot(moltbot_home, "cache", "stats", "--url", url, "--token", "wrong")
        assert code == 1 and f"the gateway at {url}" in out, out  # refused: no silent fallback
        nursery.cancel_scope.cancel()

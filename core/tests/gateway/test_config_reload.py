"""config.* methods (compare-and-swap, validation before write, redaction) and hot reload."""

from __future__ import annotations

import json
import os
import stat
from contextlib import asynccontextmanager

import pytest
import trio

from moltbot.config import read_raw, write_config
from moltbot.gateway.reload import ConfigReloader
from moltbot.interfaces.rpc import RpcError

from .conftest import TOKEN, base_config, client, running


@asynccontextmanager
async def with_reloader(app, *, interval: float = 3600):
    async with running(app) as gw, trio.open_nursery() as nursery:
        reloader = ConfigReloader(app, gw, interval=interval, debounce=0)
        app.services["config-reload"] = reloader
        await nursery.start(reloader.run)
        yield gw, reloader
        nursery.cancel_scope.cancel()


async def test_get_redacts_and_patch_is_compare_and_swap(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, _), client(gw) as c:
        got = await c.call("config.get")
        assert got["parsed"]["gateway"]["auth"]["token"] == "__MOLTBOT_REDACTED__"
        assert TOKEN not in json.dumps(got)
        assert got["valid"] is True
        patch = {"performance": {"gateway": {"requestTimeout": 5000}}}
        result = await c.call(
            "config.patch", {"raw": json.dumps(patch), "baseHash": got["hash"], "idempotencyKey": "p1"}
        )
        assert result["changed"] == ["performance.gateway.requestTimeout"]
        assert result["restartRequired"] == []
        event = await c.wait_event("config.changed")
        assert event["payload"]["changed"] == ["performance.gateway.requestTimeout"]
        assert gw.dispatcher.request_timeout == 5.0
        assert app.settings.performance.gateway.request_timeout == 5000
        on_disk = read_raw(app.paths.config_path)
        assert on_disk["gateway"]["auth"]["token"] == TOKEN
        assert stat.S_IMODE(os.stat(app.paths.config_path).st_mode) == 0o600
        with pytest.raises(RpcError) as stale:
            await c.call("config.patch", {"raw": "{}", "baseHash": got["hash"], "idempotencyKey": "p2"})
        assert stale.value.details["code"] == "BASE_HASH_MISMATCH"


async def test_invalid_writes_are_refused_and_nothing_is_written(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, _), client(gw) as c:
        got = await c.call("config.get")
        before = app.paths.config_path.read_bytes()
        bad = {"gateway": {"port": "not a port"}}
        with pytest.raises(RpcError) as info:
            await c.call(
                "config.patch", {"raw": json.dumps(bad), "baseHash": got["hash"], "idempotencyKey": "b"}
            )
        assert info.value.details["code"] == "INVALID_CONFIG"
        assert info.value.details["issues"][0]["path"] == "gateway.port"
        with pytest.raises(RpcError, match="not valid JSON5"):
            await c.call("config.set", {"raw": "{oops", "idempotencyKey": "c"})
        assert app.paths.config_path.read_bytes() == before


async def test_apply_keeps_redacted_secrets_and_reports_restart(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, _), client(gw) as c:
        got = await c.call("config.get")
        doc = got["parsed"]
        doc["gateway"]["port"] = 18790
        result = await c.call(
            "config.apply", {"raw": json.dumps(doc), "baseHash": got["hash"], "idempotencyKey": "a"}
        )
        assert result["restartRequired"] == ["gateway.port"]
        assert read_raw(app.paths.config_path)["gateway"]["auth"]["token"] == TOKEN
        schema = await c.call("config.schema")
        assert "gateway" in schema["schema"]["properties"]


async def test_file_edits_are_picked_up_and_invalid_edits_rejected(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, reloader), client(gw) as c:
        edited = base_config(controlUi={"allowedOrigins": ["https://ui.example"]})
        write_config(app.paths.config_path, edited)
        outcome = await reloader.check()
        assert outcome["changed"] == ["gateway.controlUi.allowedOrigins"]
        assert gw.policy.origin_allowed("https://ui.example")
        assert (await c.wait_event("config.changed"))["payload"]["restartRequired"] == []
        app.paths.config_path.write_text('{"gateway": {"bind": "moon"}}')
        outcome = await reloader.check()
        assert outcome["ok"] is False and "gateway.bind" in outcome["error"]
        assert app.settings.gateway.control_ui.allowed_origins == ["https://ui.example"]
        assert reloader.status()["lastError"]
        assert (await c.call("health"))["configReload"] == {"hotReloadStatus": "active"}


async def test_polling_notices_edits(make_app):
    app = make_app()
    async with with_reloader(app, interval=0.05) as (gw, _), client(gw) as c:
        write_config(app.paths.config_path, {**base_config(), "logging": {"level": "debug"}})
        with trio.fail_after(5):
            event = await c.wait_event("config.changed")
        assert event["payload"]["changed"] == ["logging.level"]


async def test_token_rotation_applies_to_new_connections(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, reloader), client(gw) as existing:
        write_config(
            app.paths.config_path, {"gateway": {"auth": {"mode": "token", "token": "rotated-" + "k" * 40}}}
        )
        assert (await reloader.check())["changed"] == ["gateway.auth.token"]
        with pytest.raises(RpcError, match="mismatch"):
            async with client(gw):
                pass
        async with client(gw, token="rotated-" + "k" * 40) as fresh:
            assert (await fresh.call("health"))["ok"]
        assert (await existing.call("health"))["ok"]  # sessions already authenticated stay

"""Control-plane extras: per-method call limits (config writes) and ``config.schema.lookup``."""

from __future__ import annotations

from typing import Any

import pytest

import moltbot
from moltbot.config.schema import full_schema, lookup
from moltbot.gateway.client import RpcError
from moltbot.gateway.limits import CallWindows
from moltbot.plugins import load_plugins
from moltbot.testing import make_plugins

from .conftest import client, running


def test_call_windows_slide_per_method_and_client() -> None:
    now = [0.0]
    windows = CallWindows(clock=lambda: now[0])
    assert [windows.admit("config.patch", "ip-a", 2, 60) for _ in range(2)] == [0.0, 0.0]
    assert windows.admit("config.patch", "ip-a", 2, 60) == 60.0
    assert windows.admit("config.patch", "ip-b", 2, 60) == 0.0  # another client
    assert windows.admit("config.apply", "ip-a", 2, 60) == 0.0  # another method
    now[0] = 30.0
    assert windows.admit("config.patch", "ip-a", 2, 60) == 30.0
    now[0] = 60.0
    assert windows.admit("config.patch", "ip-a", 2, 60) == 0.0  # the first call left the window


@moltbot.hookimpl
def moltbot_register_gateway_methods() -> Any:
    async def touch(ctx: Any) -> dict[str, bool]:
        return {"ok": True}

    yield moltbot.MethodSpec(name="test.touch", handler=touch, rate_limit=(2, 60.0))


async def test_limited_method_answers_rate_limited_with_retry_after(make_app) -> None:
    app = make_app(plugins=make_plugins(moltbot_register_gateway_methods))
    async with running(app) as gw, client(gw) as first, client(gw) as second:
        assert await first.call("test.touch") == {"ok": True}
        assert await second.call("test.touch") == {"ok": True}  # same IP, no device: one client
        with pytest.raises(RpcError) as info:
            await first.call("test.touch")
        assert info.value.code == "RATE_LIMITED" and info.value.retryable
        assert 0 < info.value.retry_after_ms <= 60_000
        assert await first.call("health")  # other methods are not limited


def test_config_writes_are_limited() -> None:
    methods = load_plugins(entrypoints=False).gateway_methods()
    assert {n for n, m in methods.items() if m.rate_limit} == {"config.set", "config.apply", "config.patch"}


def test_every_ref_in_the_full_schema_resolves() -> None:
    schema = full_schema(make_plugins())
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert refs and all(r.removeprefix("#/$defs/") in schema["$defs"] for r in refs)


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("gateway.auth.mode", lambda s: {"token", "password"} <= set(s["enum"])),
        ("channels.webchat.dmPolicy", lambda s: s["default"] == "open"),
        ("channels.webchat.groups.family.requireMention", lambda s: s["type"] == "boolean"),
        ("logging.transports.0.type", lambda s: s["type"] == "string"),
        ("gateway.nope", lambda s: s is None),
    ],
)
def test_lookup_follows_refs_maps_and_lists(path: str, check: Any) -> None:
    assert check(lookup(full_schema(make_plugins()), path))


async def test_schema_lookup_over_the_gateway(make_app) -> None:
    async with running(make_app()) as gw, client(gw) as c:
        found = await c.call("config.schema.lookup", {"path": "gateway.port"})
        assert found["path"] == "gateway.port" and found["schema"]["type"] == "integer"
        with pytest.raises(RpcError) as info:
            await c.call("config.schema.lookup", {"path": "gateway.prot"})
        assert info.value.code == "NOT_FOUND"

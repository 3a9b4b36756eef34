"""Origin gate, forwarded headers, connection cap, frame limits, scopes, rate limits, timeouts."""

from __future__ import annotations

import json

import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected

from moltbot import MethodSpec, hookimpl
from moltbot.gateway.client import open_ws
from moltbot.interfaces.rpc import RpcError
from moltbot.plugins import load_plugins, module_plugin

from .conftest import base_config, client, handshake, raw, running


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://evil.example:1"])
async def test_foreign_origin_is_refused_before_the_upgrade(make_app, origin):
    async with running(make_app()) as gw:
        with pytest.raises(ConnectionRejected) as info:
            async with open_ws(gw.urls[0], headers=[("Origin", origin)]):
                pass
        assert info.value.status_code == 403


async def test_own_and_allowlisted_origins_are_accepted(make_app):
    app = make_app(base_config(controlUi={"allowedOrigins": ["https://ui.example"]}))
    async with running(app) as gw:
        for origin in (f"http://127.0.0.1:{gw.port}", "https://ui.example"):
            async with raw(gw, headers=[("Origin", origin)]) as ws:
                assert (await handshake(ws))["ok"]


async def test_forwarded_for_only_believed_from_trusted_proxies(make_app):
    async with running(make_app()) as gw:
        with pytest.raises(ConnectionRejected) as info:
            async with open_ws(gw.urls[0], headers=[("X-Forwarded-For", "1.2.3.4")]):
                pass
        assert info.value.status_code == 400
    async with running(make_app(base_config(trustedProxies=["127.0.0.1"]))) as gw:
        with pytest.raises(ConnectionRejected) as info:
            async with open_ws(gw.urls[0], headers=[("X-Forwarded-For", "not an address")]):
                pass
        assert info.value.status_code == 400


async def test_trusted_proxy_client_address_is_the_forwarded_one(make_app):
    app = make_app(base_config(trustedProxies=["127.0.0.0/8"]))
    async with running(app) as gw, raw(gw, headers=[("X-Forwarded-For", "203.0.113.9, 127.0.0.1")]) as ws:
        assert (await handshake(ws))["ok"]
        (conn,) = gw.connections.values()
        assert conn.ip == "203.0.113.9"


async def test_excess_connections_are_refused_fast(make_app):
    app = make_app({**base_config(), "performance": {"gateway": {"maxConnections": 2}}})
    async with running(app) as gw, raw(gw), raw(gw):
        with pytest.raises(ConnectionRejected) as info:
            async with open_ws(gw.urls[0]):
                pass
        assert info.value.status_code == 503


@pytest.mark.parametrize(
    ("message", "code"),
    [("x" * (64 * 1024 + 1), 1009), (b"\x00binary", 1003), ("not json", 1008), ("[1, 2]", 1008)],
)
async def test_bad_first_frames_close_only_that_socket(make_app, message, code):
    async with running(make_app()) as gw, client(gw) as bystander, raw(gw) as ws:
        await ws.send_message(message)
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.reason.code == code
        assert (await bystander.call("health"))["ok"]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("y" * 70_000, 1009),
        ("[" * 100_000 + "]" * 100_000, 1009),
        ("[" * 20_000 + "]" * 20_000, 1008),
        ('{"type": "req", "id": 5, "method": "health"}', 1008),
        ('{"type": "res"}', 1008),
    ],
)
async def test_bad_frames_after_hello_close_only_that_socket(make_app, message, code):
    app = make_app({**base_config(), "performance": {"gateway": {"maxPayload": 65536}}})
    async with running(app) as gw, client(gw) as bystander, raw(gw) as ws:
        assert (await handshake(ws))["ok"]
        await ws.send_message(message)
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await ws.get_message()
        assert info.value.reason.code == code
        assert (await bystander.call("health"))["ok"]


async def test_scopes_are_enforced_per_method(make_app):
    async with running(make_app()) as gw:
        async with client(gw, scopes=["operator.read"]) as reader:
            with pytest.raises(RpcError) as info:
                await reader.call("config.get")
            assert info.value.code == "FORBIDDEN"
            assert info.value.details == {
                "code": "MISSING_SCOPE",
                "missingScope": "operator.admin",
                "requiredScopes": ["operator.admin"],
            }
            assert (await reader.call("health"))["ok"]
        async with client(gw, scopes=["operator.write"]) as writer:
            assert (await writer.call("health"))["ok"]  # write implies read
        async with client(gw, role="node", scopes=["operator.admin"]) as node:
            assert node.hello["auth"] == {"role": "node", "scopes": []}
            with pytest.raises(RpcError, match="missing scope"):
                await node.call("health")


async def test_unknown_method_and_bad_params(make_app):
    async with running(make_app()) as gw, client(gw) as c:
        with pytest.raises(RpcError, match=r"unknown method: no\.such\.method"):
            await c.call("no.such.method")
        with pytest.raises(RpcError, match="requires an idempotencyKey"):
            await c.call("config.patch", {"raw": "{}", "baseHash": "x"})
        with pytest.raises(RpcError, match=r"invalid config.patch params: at bogus"):
            await c.call("config.patch", {"raw": "{}", "baseHash": "x", "bogus": 1, "idempotencyKey": "k"})
        frame = await c.request("health", [1, 2])  # type: ignore[arg-type]
        assert frame["error"]["code"] == "INVALID_REQUEST"


async def test_rate_limit_answers_with_retry_after(make_app, mock_clock):
    limits = {"rateLimiting": {"requestsPerMinute": 60, "burstSize": 3}}
    app = make_app({**base_config(), "performance": {"gateway": limits}})
    async with running(app) as gw, client(gw) as c:
        for _ in range(3):
            assert (await c.call("health"))["ok"]
        with pytest.raises(RpcError) as info:
            await c.call("health")
        assert info.value.code == "RATE_LIMITED"
        assert info.value.retryable and 900 <= info.value.retry_after_ms <= 1000
        mock_clock.jump(1)
        assert (await c.call("health"))["ok"]
        assert gw.app.metrics.counter("gateway.errors") == 1


def _plugins_with(*specs: MethodSpec):
    @hookimpl
    def moltbot_register_gateway_methods():
        return list(specs)

    plugins = load_plugins(entrypoints=False)
    plugins.register(module_plugin("testmethods", moltbot_register_gateway_methods), name="test-methods")
    return plugins


async def test_side_effects_are_deduplicated_by_idempotency_key(make_app):
    calls = []

    async def send(ctx):
        calls.append(ctx.params)
        return {"n": len(calls)}

    plugins = _plugins_with(
        MethodSpec(name="test.send", handler=send, scope="operator.write", side_effects=True)
    )
    async with running(make_app(plugins=plugins)) as gw, client(gw) as c:
        first = await c.call("test.send", {"text": "hi", "idempotencyKey": "k1"})
        again = await c.call("test.send", {"text": "hi", "idempotencyKey": "k1"})
        other = await c.call("test.send", {"text": "hi", "idempotencyKey": "k2"})
        assert first == again == {"n": 1} and other == {"n": 2}
        assert calls == [{"text": "hi"}, {"text": "hi"}]


async def test_request_timeout_answers_unavailable(make_app, mock_clock):
    started = trio.Event()

    async def stuck(ctx):
        started.set()
        await trio.sleep_forever()

    plugins = _plugins_with(MethodSpec(name="test.stuck", handler=stuck))
    app = make_app({**base_config(), "performance": {"gateway": {"requestTimeout": 500}}}, plugins=plugins)
    async with running(app) as gw, client(gw) as c, trio.open_nursery() as nursery:
        replies = []

        async def call():
            replies.append(await c.request("test.stuck"))

        nursery.start_soon(call)
        await started.wait()
        mock_clock.jump(1)
    assert replies[0]["error"]["code"] == "UNAVAILABLE"
    assert "timed out" in replies[0]["error"]["message"]


async def test_handler_crash_is_internal_without_details(make_app):
    async def boom(ctx):
        raise RuntimeError("secret detail")

    plugins = _plugins_with(MethodSpec(name="test.boom", handler=boom))
    async with running(make_app(plugins=plugins)) as gw, client(gw) as c:
        frame = await c.request("test.boom")
        assert frame["error"] == {"code": "INTERNAL", "message": "test.boom failed; see the gateway log"}
        assert json.dumps(frame).find("secret detail") == -1

"""--deep: the live probe against a protocol-faithful fake and against the real gateway."""

from __future__ import annotations

import json
import socket
from typing import Any

import trio
from trio_websocket import WebSocketRequest, serve_websocket

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.server import Gateway
from moltbot.ops.context import OpsContext
from moltbot.ops.probe import FOREIGN_ORIGIN, probe_findings
from moltbot.plugins import load_plugins

TOKEN = "probe-token-0123456789abcdefghijklmnop"


def ids(findings):
    return {f.id for f in findings}


class FakeGateway:
    """Speaks the handshake: ``connect.challenge``, then answers the ``connect`` request.

    ``require_auth`` / ``check_origin`` switch the two policies the probe looks for;
    ``mismatch`` answers every connect with OpenClaw's protocol-mismatch error."""

    def __init__(self, *, require_auth: bool, check_origin: bool, mismatch: bool = False) -> None:
        self.require_auth, self.check_origin, self.mismatch = require_auth, check_origin, mismatch
        self.origins: list[str | None] = []

    async def handler(self, request: WebSocketRequest) -> None:
        origin = dict(request.headers).get(b"origin")
        self.origins.append(origin.decode() if origin else None)
        ws = await request.accept()
        await ws.send_message(
            json.dumps({"type": "event", "event": "connect.challenge", "payload": {"nonce": "n-1", "ts": 1}})
        )
        frame = json.loads(await ws.get_message())
        rid = frame["id"]
        if self.mismatch:
            error: dict[str, Any] = {
                "code": "INVALID_REQUEST",
                "message": "protocol mismatch",
                "details": {"code": "PROTOCOL_MISMATCH"},
            }
            await ws.send_message(json.dumps({"type": "res", "id": rid, "ok": False, "error": error}))
            await ws.aclose(1002, "protocol mismatch")
            return
        if self.check_origin and origin is not None:  # the real gateway refuses at the upgrade (HTTP 403)
            error = {
                "code": "INVALID_REQUEST",
                "message": "origin not allowed",
                "details": {"code": "ORIGIN_NOT_ALLOWED"},
            }
            await ws.send_message(json.dumps({"type": "res", "id": rid, "ok": False, "error": error}))
            await ws.aclose(1008, "origin not allowed")
            return
        if self.require_auth and frame["params"].get("auth", {}).get("token") != TOKEN:
            error = {
                "code": "INVALID_REQUEST",
                "message": "unauthorized: gateway token missing",
                "details": {"code": "AUTH_TOKEN_MISSING"},
            }
            await ws.send_message(json.dumps({"type": "res", "id": rid, "ok": False, "error": error}))
            await ws.aclose(1008, "unauthorized")
            return
        await ws.send_message(
            json.dumps({"type": "res", "id": rid, "ok": True, "payload": {"type": "hello-ok", "protocol": 4}})
        )
        await ws.aclose()


async def _probe(fake: FakeGateway, ctx: OpsContext) -> list:
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_websocket, fake.handler, "127.0.0.1", 0, None)
        port = server.port
        found = await probe_findings(ctx, f"ws://127.0.0.1:{port}/", timeout=5)
        nursery.cancel_scope.cancel()
    return found


def _ctx(write_cfg, ctx_for, config=None) -> OpsContext:
    write_cfg(config or {"gateway": {"auth": {"mode": "token", "token": TOKEN}}})
    return ctx_for()


async def test_permissive_gateway_is_flagged_twice(write_cfg, ctx_for):
    fake = FakeGateway(require_auth=False, check_origin=False)
    found = await _probe(fake, _ctx(write_cfg, ctx_for))
    assert ids(found) == {"gateway.probe.auth_not_required", "gateway.probe.origin_not_enforced"}
    assert all(f.severity == "critical" for f in found)
    assert FOREIGN_ORIGIN in fake.origins and None in fake.origins


async def test_strict_fake_passes(write_cfg, ctx_for):
    found = await _probe(FakeGateway(require_auth=True, check_origin=True), _ctx(write_cfg, ctx_for))
    assert ids(found) == {"gateway.probe.passed"}


async def test_origin_not_enforced_alone(write_cfg, ctx_for):
    found = await _probe(FakeGateway(require_auth=True, check_origin=False), _ctx(write_cfg, ctx_for))
    assert ids(found) == {"gateway.probe.origin_not_enforced"}


async def test_protocol_mismatch_is_inconclusive_not_reassuring(write_cfg, ctx_for):
    found = await _probe(
        FakeGateway(require_auth=True, check_origin=False, mismatch=True), _ctx(write_cfg, ctx_for)
    )
    assert ids(found) == {"gateway.probe_failed"}


async def test_unreachable_gateway(write_cfg, ctx_for):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    found = await probe_findings(_ctx(write_cfg, ctx_for), f"ws://127.0.0.1:{port}/", timeout=2)
    assert ids(found) == {"gateway.probe_failed"}


async def test_real_gateway_refuses_both_probes(moltbot_home):
    env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"gateway": {"auth": {"mode": "token", "token": TOKEN}}})
    plugins = load_plugins(entrypoints=False)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    ctx = OpsContext.load(paths, env, plugins)
    async with trio.open_nursery() as nursery:
        gateway = Gateway(app, port=0)
        app.services["gateway"] = gateway
        await nursery.start(gateway.run)
        found = await probe_findings(ctx, gateway.urls[0], timeout=5)
        nursery.cancel_scope.cancel()
    assert ids(found) == {"gateway.probe.passed"}, [f.detail for f in found]

"""Protocol v4 handshake, auth failures, lockout and device proofs, over real loopback sockets."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from trio_websocket import ConnectionClosed

from moltbot.gateway.client import open_ws
from moltbot.interfaces.rpc import RpcError

from .conftest import TOKEN, client, handshake, raw, running


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


async def test_hello_ok_has_openclaw_shape(make_app):
    async with running(make_app()) as gw, client(gw) as c:
        assert set(c.challenge["payload"]) >= {"nonce", "ts"}
        hello = c.hello
        assert hello["type"] == "hello-ok"
        assert hello["protocol"] == 4
        assert set(hello["server"]) == {"version", "connId"}
        assert {"health", "status", "system-presence", "config.patch"} <= set(hello["features"]["methods"])
        assert "tick" in hello["features"]["events"]
        assert set(hello["snapshot"]) >= {"presence", "health", "stateVersion", "uptimeMs"}
        assert hello["auth"]["role"] == "operator"
        assert "operator.admin" in hello["auth"]["scopes"]
        assert set(hello["policy"]) == {"maxPayload", "maxBufferedBytes", "tickIntervalMs"}
        health = await c.call("health")
        assert health["ok"] is True and "plugins" in health
        presence = await c.call("system-presence")
        assert [p["mode"] for p in presence] == ["gateway", "cli"]
        status = await c.call("status")
        assert status["gateway"]["connections"] == 1
        assert gw.app.metrics.counter("gateway.requests") == 3


async def test_events_carry_per_connection_seq_and_respect_scopes(make_app):
    async with running(make_app()) as gw, client(gw) as admin, client(gw, scopes=["operator.read"]) as reader:
        gw.broadcast("custom.admin", {"n": 1}, scope="operator.admin")
        gw.broadcast("custom.all", {"n": 2}, scope=None)
        gw.broadcast("custom.read", {"n": 3})
        first = await admin.wait_event("custom.admin")
        assert (await admin.wait_event("custom.all"))["seq"] == first["seq"] + 1
        assert (await admin.wait_event("custom.read"))["seq"] == first["seq"] + 2
        shared = await reader.wait_event("custom.all")
        assert (await reader.wait_event("custom.read"))["seq"] == shared["seq"] + 1
        assert not [e for e in reader.events if e["event"] == "custom.admin"]


async def test_presence_changes_are_announced_to_every_client(make_app):
    async with running(make_app()) as gw, client(gw) as first:
        async with client(gw, scopes=["operator.read"]):
            with trio.fail_after(10):
                while True:
                    event = await first.wait_event("presence")
                    if len(event["payload"]["presence"]) == 3:  # the gateway and two clients
                        break
        assert event["payload"]["stateVersion"]["presence"] >= 2
        assert {"presence", "health", "agent", "chat"} <= set(gw.event_names)


@pytest.mark.parametrize(
    ("opts", "detail"),
    [({"token": "wrong"}, "AUTH_TOKEN_MISMATCH"), ({"token": None}, "AUTH_TOKEN_MISSING")],
)
async def test_bad_credentials_are_refused(make_app, opts, detail):
    async with running(make_app()) as gw:
        with pytest.raises(RpcError) as info:
            async with client(gw, **opts):
                pass
        assert info.value.code == "INVALID_REQUEST"
        assert info.value.message.startswith("unauthorized")
        assert info.value.details == {"code": detail}


async def test_lockout_after_ten_failures_missing_credentials_do_not_count(make_app, mock_clock):
    async with running(make_app()) as gw:
        for _ in range(15):
            with pytest.raises(RpcError):
                async with client(gw, token=None):
                    pass
        for _ in range(10):
            with pytest.raises(RpcError, match="mismatch"):
                async with client(gw, token="wrong"):
                    pass
        with pytest.raises(RpcError) as info:
            async with client(gw):  # the right token, but locked out
                pass
        assert info.value.code == "RATE_LIMITED"
        assert info.value.details == {"code": "AUTH_RATE_LIMITED"}
        assert 299_000 <= info.value.retry_after_ms <= 300_000
        mock_clock.jump(301)
        async with client(gw) as c:
            assert (await c.call("health"))["ok"]


async def test_first_frame_must_be_connect(make_app):
    async with running(make_app()) as gw, raw(gw) as ws:
        await ws.send_message(json.dumps({"type": "req", "id": "x1", "method": "health", "params": {}}))
        reply = json.loads(await ws.get_message())
        assert reply["error"] == {
            "code": "INVALID_REQUEST",
            "message": "invalid handshake: first request must be connect",
        }
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.reason.code == 1008


async def test_protocol_mismatch_closes_1002(make_app):
    async with running(make_app()) as gw, raw(gw) as ws:
        frame = {
            "type": "req",
            "id": "x2",
            "method": "connect",
            "params": {"minProtocol": 1, "maxProtocol": 2},
        }
        await ws.send_message(json.dumps(frame))
        reply = json.loads(await ws.get_message())
        assert reply["error"]["details"]["code"] == "PROTOCOL_MISMATCH"
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.reason.code == 1002


async def test_connect_twice_is_an_error_not_a_close(make_app):
    async with running(make_app()) as gw, client(gw) as c:
        frame = await c.request("connect", {"minProtocol": 4, "maxProtocol": 4})
        assert frame["error"]["message"] == "connect is only valid as the first request"
        assert (await c.call("health"))["ok"]


def _device(nonce: str, key: Ed25519PrivateKey, *, tamper: bool = False) -> dict:
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    device_id = hashlib.sha256(pub).hexdigest()
    signed_at = time.time_ns() // 1_000_000
    scopes = "operator.read"
    payload = "|".join(
        ["v3", device_id, "cli", "cli", "operator", scopes, str(signed_at), TOKEN, nonce, "linux", ""]
    )
    signature = key.sign(payload.encode() + (b"x" if tamper else b""))
    return {
        "id": device_id,
        "publicKey": _b64(pub),
        "signature": _b64(signature),
        "signedAt": signed_at,
        "nonce": nonce,
    }


@pytest.mark.parametrize("tamper", [False, True])
async def test_device_proof_is_verified(make_app, tamper):
    key = Ed25519PrivateKey.generate()
    async with running(make_app()) as gw:
        async with open_ws(gw.urls[0]) as ws:
            nonce = json.loads(await ws.get_message())["payload"]["nonce"]
            params = {
                "minProtocol": 4,
                "maxProtocol": 4,
                "client": {"id": "cli", "version": "1", "platform": "linux", "mode": "cli"},
                "role": "operator",
                "scopes": ["operator.read"],
                "auth": {"token": TOKEN},
                "device": _device(nonce, key, tamper=tamper),
            }
            await ws.send_message(
                json.dumps({"type": "req", "id": "c", "method": "connect", "params": params})
            )
            reply = json.loads(await ws.get_message())
        if tamper:
            assert reply["error"]["details"]["code"] == "DEVICE_AUTH_SIGNATURE_INVALID"
        else:
            assert reply["payload"]["type"] == "hello-ok"
            assert reply["payload"]["auth"]["scopes"] == ["operator.read"]


async def test_handshake_deadline_closes_idle_sockets(make_app, mock_clock):
    async with running(make_app()) as gw, raw(gw) as ws:
        mock_clock.jump(16)
        with pytest.raises(ConnectionClosed) as info:
            await ws.get_message()
        assert info.value.reason.reason == "handshake timeout"


async def test_handshake_helper_roundtrip(make_app):
    async with running(make_app()) as gw, raw(gw) as ws:
        reply = await handshake(ws)
        assert reply["ok"] and reply["payload"]["type"] == "hello-ok"

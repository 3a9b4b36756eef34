"""A client that stops reading is closed; the others keep receiving every event in order."""

from __future__ import annotations

import json
import socket

import pytest
import trio
import wsproto
from wsproto.events import AcceptConnection, Request, TextMessage

from moltbot.gateway.client import ConnectOptions, connect_frame

from .conftest import base_config, client, running


async def _stalled_client(port: int) -> trio.SocketStream:
    """Authenticate with a tiny receive buffer, then never read again."""
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    stream = trio.SocketStream(sock)
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    await stream.send_all(ws.send(Request(host=f"127.0.0.1:{port}", target="/")))
    frames: list[dict] = []
    while len(frames) < 2:  # challenge, then hello-ok
        ws.receive_data(await stream.receive_some(65536))
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                continue
            if isinstance(event, TextMessage):
                frames.append(json.loads(event.data))
                if len(frames) == 1:
                    hello = connect_frame(
                        None, ConnectOptions(token=base_config()["gateway"]["auth"]["token"])
                    )
                    await stream.send_all(ws.send(TextMessage(json.dumps(hello))))
    assert frames[1]["payload"]["type"] == "hello-ok"
    return stream


async def test_slow_consumer_is_closed_without_stalling_others(make_app):
    app = make_app({**base_config(), "performance": {"gateway": {"maxBufferedBytes": 262144}}})
    async with running(app) as gw, client(gw) as healthy:
        stalled = await _stalled_client(gw.port)
        assert len(gw.connections) == 2
        keeping_up = gw.connections[healthy.hello["server"]["connId"]]
        blob = "z" * 8192
        count = 0
        with trio.fail_after(20):
            while len(gw.connections) == 2:
                count += 1
                gw.broadcast("bulk", {"i": count, "blob": blob})
                while keeping_up.queued_bytes > 65536:  # the healthy client reads at its own pace
                    await trio.sleep(0.001)
                await trio.sleep(0)
            for i in range(count + 1, count + 11):
                gw.broadcast("bulk", {"i": i, "blob": blob})
            seen = []
            while len(seen) < count + 10:
                seen.append((await healthy.wait_event("bulk"))["payload"]["i"])
        assert seen == list(range(1, count + 11))
        assert (await healthy.call("health"))["ok"]
        await stalled.aclose()


@pytest.mark.parametrize("how", ["shutdown", "cancel"])
async def test_stopping_does_not_wait_forever_for_a_client_that_stopped_reading(make_app, how):
    app = make_app()  # the default 8 MB send queue: far more than the socket buffers hold
    with trio.fail_after(20):
        async with running(app) as gw:
            stalled = await _stalled_client(gw.port)
            (conn,) = gw.connections.values()
            blob = "z" * 65536
            for i in range(64):  # 4 MB queued, under maxBufferedBytes: not a slow consumer yet
                gw.broadcast("bulk", {"i": i, "blob": blob})
            await trio.sleep(0.5)
            assert conn.queued_bytes > 1_000_000  # the writer is stuck on the full socket
            if how == "shutdown":
                await gw.shutdown()  # drains for 2 s, then aborts the TCP connection
                assert not gw.connections
            # "cancel": leaving running() cancels the gateway with the write still stuck
        await stalled.aclose()

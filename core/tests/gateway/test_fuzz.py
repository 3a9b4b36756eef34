"""Hypothesis-generated garbage frames: each gets an error reply or closes only its own socket."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.client import ConnectOptions, connect, open_ws
from moltbot.gateway.server import Gateway
from moltbot.plugins import load_plugins

from .conftest import TOKEN, base_config, handshake

CODES = {"INVALID_REQUEST", "FORBIDDEN", "NOT_FOUND", "UNAVAILABLE", "RATE_LIMITED"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway in its own thread and trio run, shared by every generated example."""
    env = {"MOLTBOT_STATE_DIR": str(tmp_path_factory.mktemp("fuzz") / "state")}
    paths = resolve_paths(env)
    write_config(paths.config_path, {**base_config(), "performance": {"gateway": {"maxPayload": 65536}}})
    plugins = load_plugins(entrypoints=False)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            gw = Gateway(app, port=0)
            app.services["gateway"] = gw
            await nursery.start(gw.run)
            holder.update(gw=gw, token=trio.lowlevel.current_trio_token(), scope=nursery.cancel_scope)
            ready.set()

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder["gw"]
    trio.from_thread.run_sync(holder["scope"].cancel, trio_token=holder["token"])
    thread.join(10)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
requests = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["req", "res", "event"]) | st.text(max_size=5),
        "id": st.text(max_size=10) | st.integers() | st.none(),
        "method": st.sampled_from(["health", "status", "config.get", "config.patch", "connect", "x"])
        | st.text(max_size=12),
        "params": json_values,
    },
)
frames = (
    st.text(max_size=200)
    | st.binary(max_size=200)
    | json_values.map(json.dumps)
    | requests.map(json.dumps)
    | st.integers(1, 400).map(lambda n: "[" * n + "]" * n)
)


async def _probe(url: str, frame: str | bytes) -> None:
    async with connect(url, ConnectOptions(token=TOKEN)) as bystander, open_ws(url) as ws:
        await ws.get_message()  # challenge
        assert (await handshake(ws))["ok"]
        await ws.send_message(frame)
        with trio.fail_after(5):
            try:
                reply = json.loads(await ws.get_message())
                while reply.get("type") == "event":  # presence and ticks may come first
                    reply = json.loads(await ws.get_message())
            except ConnectionClosed as closed:
                assert closed.reason.code in (1003, 1008, 1009), closed.reason
            else:
                assert reply["type"] == "res"
                if not reply["ok"]:
                    assert reply["error"]["code"] in CODES
                    assert "Traceback" not in json.dumps(reply)
            assert (await bystander.call("health"))["ok"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames)
def test_garbage_frames_close_only_their_connection(gateway: Gateway, frame: str | bytes) -> None:
    trio.run(_probe, gateway.urls[0], frame)

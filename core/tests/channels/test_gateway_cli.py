"""The channels gateway methods and the CLI as real processes against an in-test gateway."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import trio

from moltbot.app import App
from moltbot.channels.pairing import PairingStore
from moltbot.channels.service import ChannelsService, credentials_dir
from moltbot.channels.testing import EchoAgent
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.client import ConnectOptions, connect
from moltbot.gateway.server import Gateway
from moltbot.interfaces.rpc import RpcError
from moltbot.plugins import load_plugins

MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
TOKEN = "channels-test-token-0123456789abcdef"


async def moltbot(state: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "MOLTBOT_STATE_DIR": str(state)}
    env.pop("MOLTBOT_CONFIG_PATH", None)
    done = await trio.run_process(
        [MOLTBOT, *args], capture_stdout=True, capture_stderr=True, check=False, env=env
    )
    return done.returncode, (done.stdout + done.stderr).decode()


async def test_status_send_and_pairing_through_the_gateway(moltbot_home: Path) -> None:
    plugins = load_plugins()
    if "echo" not in plugins.channels():
        pytest.skip("moltbot-echo is not installed")
    env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
    paths = resolve_paths(env)
    write_config(
        paths.config_path,
        {
            "gateway": {"auth": {"mode": "token", "token": TOKEN}},
            "channels": {"echo": {"dmPolicy": "pairing"}},
        },
    )
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    async with trio.open_nursery() as nursery:
        agent, channels = EchoAgent(app), ChannelsService(app)
        app.services.update(agent=agent, channels=channels)
        await nursery.start(agent.run)
        await nursery.start(channels.run)
        gateway = Gateway(app, port=0)
        app.services["gateway"] = gateway
        url = (await nursery.start(gateway.run))[0]
        echo = channels.channels["echo"].channel

        code, out = await moltbot(moltbot_home, "channels", "status", "--url", url, "--json")
        assert code == 0, out
        assert json.loads(out)["channels"]["echo"]["state"] == "running"
        code, out = await moltbot(moltbot_home, "channels", "list")
        assert code == 0 and "echo" in out and "enabled" in out, out
        webchat = next(line for line in out.splitlines() if line.startswith("webchat"))
        assert "enabled" in webchat  # built in: runs without a config section

        code, out = await moltbot(
            moltbot_home,
            "message",
            "send",
            "--channel",
            "echo",
            "--target",
            "u1",
            "--message",
            "hi",
            "--url",
            url,
        )
        assert code == 0 and "sent to u1 on echo" in out, out
        assert [m.text for m in echo.outbox] == ["hi"]  # type: ignore[attr-defined]

        request = PairingStore(credentials_dir(moltbot_home), "echo").request("u2", "Bea")
        async with connect(url, ConnectOptions(token=TOKEN)) as client:
            listed = await client.call("pairing.list", {})
            assert [(r["code"], r["sender"], r["senderName"]) for r in listed["requests"]] == [
                (request.code, "u2", "Bea")
            ]
            with pytest.raises(RpcError) as missing:
                await client.call("pairing.approve", {"channel": "echo", "code": "AAAAAAAA"})
            assert missing.value.code == "NOT_FOUND"
            approved = await client.call(
                "pairing.approve", {"channel": "echo", "code": request.code, "notify": True}
            )
            assert approved["approved"]["sender"] == "u2" and approved["notified"]
            with pytest.raises(RpcError) as no_key:
                await client.call("send", {"channel": "echo", "to": "u1", "message": "x"})
            assert no_key.value.code == "INVALID_REQUEST"
            with pytest.raises(RpcError) as unknown:
                await client.call(
                    "send", {"channel": "nope", "to": "u1", "message": "x", "idempotencyKey": "k"}
                )
            assert unknown.value.code == "NOT_FOUND"
        assert echo.outbox[-1].target == "u2"  # type: ignore[attr-defined]

        # the CLI edits the stores without the gateway's help, as a separate process
        second = PairingStore(credentials_dir(moltbot_home), "echo").request("u3")
        code, out = await moltbot(moltbot_home, "pairing", "list", "echo")
        assert second.code in out
        code, out = await moltbot(moltbot_home, "pairing", "reject", "echo", second.code)
        assert code == 0 and "rejected u3" in out
        code, out = await moltbot(moltbot_home, "pairing", "approve", "echo", second.code)
        assert code == 1 and "no pending echo pairing request" in out
        nursery.cancel_scope.cancel()

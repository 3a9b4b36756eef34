"""Hot reload does what ``LIVE_PATHS`` promises: one test per live group, each against the running
part that uses the value, and every other change reported as needing a restart."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from loguru import logger
from trio_websocket import ConnectionRejected

import moltbot
from moltbot.channels.service import ChannelsService
from moltbot.channels.testing import EchoAgent
from moltbot.config import write_config
from moltbot.gateway.client import open_ws
from moltbot.gateway.reload import applies_live
from moltbot.plugins import load_plugins
from moltbot.runtime import run_gateway
from moltbot.testing import MemoryChatChannel, make_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply

from .conftest import TOKEN, base_config, client, handshake, raw
from .test_config_reload import with_reloader


@pytest.mark.parametrize(
    ("path", "live"),
    [
        ("gateway.auth.token", True),
        ("channels.telegram.allowFrom", True),
        ("channels.telegram.groups.-100.requireMention", True),
        ("channels.telegram.botToken", True),
        ("tools.byAgent.main.deny", True),
        ("tools.exec.approvalTimeout", False),
        ("performance.gateway.maxPayload", False),
        ("logging.level", False),
        ("gateway.tailscale.mode", False),
        ("gateway.controlUi.enabled", True),
    ],
)
def test_live_paths_are_an_allow_list(path: str, live: bool) -> None:
    assert applies_live(path) is live


async def test_origins_and_trusted_proxies_apply_to_the_next_connection(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, reloader):
        origin = [("Origin", "https://ui.example")]
        with pytest.raises(ConnectionRejected), trio.fail_after(10):
            async with open_ws(gw.urls[0], headers=origin):
                pass
        write_config(
            app.paths.config_path,
            base_config(controlUi={"allowedOrigins": ["https://ui.example"]}, trustedProxies=["127.0.0.1"]),
        )
        outcome = await reloader.check()
        assert outcome["restartRequired"] == []
        forwarded = [*origin, ("X-Forwarded-For", "203.0.113.9")]
        with trio.fail_after(10):
            async with raw(gw, headers=forwarded) as ws:
                assert (await handshake(ws))["ok"]
                assert [c.ip for c in gw.connections.values()] == ["203.0.113.9"]


async def test_connection_limit_applies_to_the_next_connection(make_app):
    app = make_app()
    async with with_reloader(app) as (gw, reloader), raw(gw), raw(gw):
        write_config(
            app.paths.config_path, {**base_config(), "performance": {"gateway": {"maxConnections": 2}}}
        )
        assert (await reloader.check())["restartRequired"] == []
        with pytest.raises(ConnectionRejected) as info, trio.fail_after(10):
            async with open_ws(gw.urls[0]):
                pass
        assert info.value.status_code == 503


class LabelledConfig(moltbot.ChannelConfig):
    label: str = ""
    """Stands for a credential: changing it rebuilds the channel."""


@moltbot.hookimpl
def moltbot_register_channels() -> Any:
    yield moltbot.ChannelSpec(name="memory", factory=MemoryChatChannel, config=moltbot.ChannelConfig)
    yield moltbot.ChannelSpec(name="labelled", factory=MemoryChatChannel, config=LabelledConfig)


async def test_channel_access_rules_apply_to_the_next_message(make_app):
    app = make_app(
        {**base_config(), "channels": {"memory": {"dmPolicy": "allowlist"}}},
        plugins=make_plugins(moltbot_register_channels),
    )
    agent = EchoAgent(app)
    channels = ChannelsService(app)
    app.services.update(agent=agent, channels=channels)
    async with with_reloader(app) as (_, reloader), trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels.run)
        memory: MemoryChatChannel = channels.channels["memory"].channel  # type: ignore[assignment]
        await memory.deliver("ignored", sender="fred")
        with trio.fail_after(10):  # counted and decided (dropped) in one step, with no await between
            while not app.metrics.counter("channels.inbound", channel="memory"):
                await trio.sleep(0.01)
        assert agent.calls == []
        raw_config = {
            **base_config(),
            "channels": {"memory": {"dmPolicy": "allowlist", "allowFrom": ["fred"]}},
        }
        write_config(app.paths.config_path, raw_config)
        outcome = await reloader.check()
        assert outcome["changed"] == ["channels.memory.allowFrom"] and outcome["restartRequired"] == []
        await memory.deliver("let me in", sender="fred")
        with trio.fail_after(10):
            while len(memory.sent) < 1:
                await trio.sleep(0.01)
        assert [c.text for c in agent.calls] == ["let me in"]
        nursery.cancel_scope.cancel()


async def test_channel_accounts_start_restart_and_stop_with_the_config(make_app):
    open_dm = {"dmPolicy": "open", "allowFrom": ["*"]}
    app = make_app(
        {**base_config(), "channels": {"memory": open_dm}}, plugins=make_plugins(moltbot_register_channels)
    )
    agent = EchoAgent(app)
    channels = ChannelsService(app)
    app.services.update(agent=agent, channels=channels)

    async def reload(channels_config: dict[str, Any]) -> None:
        write_config(app.paths.config_path, {**base_config(), "channels": channels_config})
        assert (await reloader.check())["restartRequired"] == []

    def channel(name: str) -> MemoryChatChannel:
        return channels.channels[name].channel  # type: ignore[return-value]

    async def running(*names: str) -> None:
        with trio.fail_after(10):
            while not all(n in channels.channels and channel(n).running for n in names):
                await trio.sleep(0.01)

    async with with_reloader(app) as (_, reloader), trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels.run)
        memory = channel("memory")
        await reload({"memory": open_dm, "labelled": {**open_dm, "label": "a"}})  # added: starts
        await running("memory", "labelled")
        first = channel("labelled")
        await reload({"memory": open_dm, "labelled": {**open_dm, "label": "b"}})  # changed: restarts
        await running("labelled")
        assert channel("labelled") is not first and not first.running
        assert channel("memory") is memory  # untouched
        accounts = {**open_dm, "accounts": {"home": {}, "work": {"dmPolicy": "allowlist"}}}
        await reload({"memory": accounts, "labelled": {"enabled": False}})
        await running("memory:home", "memory:work")
        assert not memory.running and "memory" not in channels.channels
        status = channels.status()["channels"]
        assert status["labelled"]["state"] == "disabled"
        assert status["memory:work"]["account"] == "work"
        home, work = channel("memory:home"), channel("memory:work")
        await work.deliver("not allowed here", sender="zoe")
        await home.deliver("hello home", sender="zoe")
        with trio.fail_after(10):
            while not home.sent:
                await trio.sleep(0.01)
        assert [c.text for c in agent.calls] == ["hello home"]
        assert agent.calls[0].origin is not None and agent.calls[0].origin.account == "home"
        assert home.sent[0].account == "home" and work.sent == []
        nursery.cancel_scope.cancel()


async def test_model_tool_policy_and_sandbox_apply_to_the_next_agent_run(make_app, tmp_path):
    plugins = load_plugins()
    if "openai" not in plugins.model_providers():
        pytest.skip("moltbot-openai is not installed")
    fake = FakeOpenAI(api_keys={"sk-test"}, model_ids=("fake-model", "other-model"))

    def config(model: str, **tools: Any) -> dict[str, Any]:
        return {
            **base_config(),
            "agent": {"model": f"openai/{model}", "workspace": str(tmp_path / "ws")},
            "models": {"providers": {"openai": {"baseUrl": fake.base_url, "apiKey": "sk-test"}}},
            "tools": {"profile": "coding", "deny": ["exec", "process"], **tools},
            "monitoring": {"enabled": False},
        }

    async def ask(c: Any, text: str) -> dict[str, Any]:
        accepted = await c.call("agent", {"message": text, "sessionKey": "live", "idempotencyKey": text})
        return await c.call("agent.wait", {"runId": accepted["runId"], "timeoutMs": 10000})

    def offered() -> tuple[str, set[str]]:
        body = fake.requests[-1].body
        return body["model"], {t["function"]["name"] for t in body.get("tools", [])}

    with trio.fail_after(30):
        async with trio.open_nursery() as outer:
            await outer.start(fake.run)
            fake.script(Reply(text="one"), Reply(text="two"))
            app = make_app(config("fake-model"), plugins=plugins)
            stop = trio.Event()
            async with trio.open_nursery() as nursery:
                gw = await nursery.start(
                    lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
                )
                async with client(gw, token=TOKEN) as c:
                    assert (await ask(c, "first"))["text"] == "one"
                    model, tools = offered()
                    assert model == "fake-model" and {"read", "write"} <= tools
                    updated = config("other-model")
                    updated["tools"]["deny"].append("read")
                    sandbox = {"mode": "all", "allowlist": ["group:fs"], "denylist": ["write"]}
                    updated["agents"] = {"defaults": {"sandbox": sandbox}}
                    write_config(app.paths.config_path, updated)
                    outcome = await app.services["config-reload"].check()
                    assert outcome["restartRequired"] == [], outcome
                    assert (await ask(c, "second"))["text"] == "two"
                    model, tools = offered()
                    assert model == "other-model" and tools == {"edit", "apply_patch"}
                stop.set()
            outer.cancel_scope.cancel()


async def test_other_changes_are_reported_as_restart_required(make_app):
    app = make_app()
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING", format="{message}")
    try:
        async with with_reloader(app) as (gw, reloader), client(gw) as c:
            write_config(
                app.paths.config_path,
                {
                    **base_config(),
                    "logging": {"level": "debug"},
                    "monitoring": {"thresholds": {"checkInterval": 5000}},
                    "performance": {"gateway": {"requestTimeout": 5000}},
                },
            )
            outcome = await reloader.check()
            with trio.fail_after(10):
                event = await c.wait_event("config.changed")
    finally:
        logger.remove(sink)
    restart = ["logging.level", "monitoring.thresholds.checkInterval"]
    assert outcome["restartRequired"] == event["payload"]["restartRequired"] == restart
    assert "performance.gateway.requestTimeout" in event["payload"]["changed"]
    assert reloader.status()["restartRequired"] == restart
    assert any("needs a gateway restart" in line and "logging.level" in line for line in lines)

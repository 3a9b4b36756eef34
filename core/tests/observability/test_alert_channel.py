"""The ``channel`` alert sink through the real channels service (and, from the CLI, the gateway)."""

import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trio

import moltbot
from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.default_plugins.alerts_channel import alert_text
from moltbot.interfaces.alert_sink import Alert
from moltbot.metrics.service import MetricsService
from moltbot.monitoring.dispatch import build_alert_sinks
from moltbot.monitoring.service import MonitorService
from moltbot.plugins import load_plugins
from moltbot.testing import MemoryChatChannel
from moltbot.testing.conformance import AlertSinkConformance, AlertSinkHarness

MOLTBOT = str(Path(sys.executable).with_name("moltbot"))
TOKEN = "alert-channel-test-token-0123456789"


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    yield moltbot.ChannelSpec(name="memory", factory=MemoryChatChannel, config=moltbot.ChannelConfig)


def settings(sink: dict[str, Any], channel: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "channels": {"memory": channel or {}},
        "monitoring": {
            "sampleInterval": 1000,
            "thresholds": {"checkInterval": 5000},
            "alertSinks": [{"type": "channel", "config": sink}],
        },
    }


def sent(channels: ChannelsService) -> list[Any]:
    return channels.channels["memory"].channel.sent  # type: ignore[attr-defined]


def test_alert_text_for_firing_and_resolved() -> None:
    now = datetime.now(UTC)
    firing = Alert(
        level="critical",
        metric="system.cpuUsage",
        current_value=0.97,
        threshold=0.95,
        message="CPU usage is critically high",
        time=now,
    )
    assert alert_text(firing) == "[CRITICAL] system.cpuUsage 0.97 > 0.95 — CPU usage is critically high"
    resolved = Alert(
        level="warning",
        metric="system.cpuUsage",
        current_value=0.5,
        threshold=0.8,
        message="CPU usage is back to 50%",
        state="resolved",
        time=now,
    )
    assert alert_text(resolved) == "[RESOLVED] system.cpuUsage 0.5 ≤ 0.8 (warning) — CPU usage is back to 50%"


@pytest.mark.parametrize(
    ("sink", "channel", "path", "message"),
    [
        ({"channel": "telegram", "target": "1"}, {}, "config.channel", "'telegram' is not configured"),
        ({"channel": "memory", "target": "1"}, {"enabled": False}, "config.channel", "is disabled"),
        ({"channel": "memory"}, {"allowFrom": ["*"]}, "config.target", "allowFrom names nobody"),
    ],
)
def test_the_channel_must_be_configured(make_app, sink, channel, path, message) -> None:
    app = make_app(settings(sink, channel), moltbot_register_channels)
    with pytest.raises(moltbot.ConfigError) as err:
        build_alert_sinks(app)
    assert err.value.problems[0][0] == f"monitoring.alertSinks[0].{path}"
    assert message in err.value.problems[0][1]


async def test_monitor_messages_the_owner_and_says_when_it_cleared(make_app, probe, autojump_clock) -> None:
    app = make_app(
        settings({"channel": "memory"}, {"allowFrom": ["*", "owner-1"]}), moltbot_register_channels
    )
    channels = ChannelsService(app)
    app.services.update(channels=channels, metrics=MetricsService(app, probe))
    monitor = MonitorService(app)
    async with trio.open_nursery() as nursery:
        await nursery.start(channels.run)
        await nursery.start(app.services["metrics"].run)
        await nursery.start(monitor.run)
        probe.set(cpu=0.99)
        await trio.sleep(11)
        probe.set(cpu=0.1)
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    messages = sent(channels)
    assert [m.target for m in messages] == ["owner-1", "owner-1"]
    assert messages[0].text.startswith("[CRITICAL] system.cpuUsage 0.99 > 0.95 — CPU usage is 99%")
    assert messages[1].text.startswith("[RESOLVED] system.cpuUsage 0.1 ≤ 0.95 (critical) — ")
    assert app.metrics.counter("monitoring.alerts_sent", sink="channel", outcome="ok") == 2


async def test_the_same_alert_is_sent_once(make_app) -> None:
    app = make_app(settings({"channel": "memory", "target": "owner-1"}), moltbot_register_channels)
    channels = ChannelsService(app)
    app.services["channels"] = channels
    sink = build_alert_sinks(app)["channel"]
    alert = Alert(
        level="warning", metric="m", current_value=2, threshold=1, message="x", time=datetime.now(UTC)
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(channels.run)
        await sink.send(alert)
        await sink.send(alert)  # a retried delivery of one alert: the channel's idempotency key holds
        nursery.cancel_scope.cancel()
    assert [m.text for m in sent(channels)] == ["[WARNING] m 2 > 1 — x"]


async def test_without_channels_or_a_gateway_the_error_says_so(make_app) -> None:
    raw = {**settings({"channel": "memory", "target": "owner-1"}), "gateway": {"port": free_port()}}
    sink = build_alert_sinks(make_app(raw, moltbot_register_channels))["channel"]
    alert = Alert(
        level="warning", metric="m", current_value=2, threshold=1, message="x", time=datetime.now(UTC)
    )
    with pytest.raises(ConnectionError, match="no channels service in this process and no gateway answered"):
        await sink.send(alert)


class TestChannelAlertSinkConformance(AlertSinkConformance):
    @pytest.fixture
    async def alert_harness(self, make_app, nursery):
        app = make_app(settings({"channel": "memory", "target": "owner-1"}), moltbot_register_channels)
        channels = ChannelsService(app)
        app.services["channels"] = channels
        await nursery.start(channels.run)

        async def received() -> list[str]:
            return [m.text.split()[1] for m in sent(channels)]

        return AlertSinkHarness(sink=build_alert_sinks(app)["channel"], received=received)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_alerts_test_from_the_cli_goes_through_the_gateway(moltbot_home: Path) -> None:
    from moltbot.gateway.server import Gateway

    plugins = load_plugins()
    if "echo" not in plugins.channels():
        pytest.skip("moltbot-echo is not installed")
    env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
    paths = resolve_paths(env)
    port = free_port()
    write_config(
        paths.config_path,
        {
            "gateway": {"port": port, "auth": {"mode": "token", "token": TOKEN}},
            "channels": {"echo": {"allowFrom": ["owner-1"]}},
            "monitoring": {
                "alertSinks": [{"type": "log"}, {"type": "channel", "config": {"channel": "echo"}}]
            },
        },
    )
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    async with trio.open_nursery() as nursery:
        channels = ChannelsService(app)
        app.services["channels"] = channels
        await nursery.start(channels.run)
        gateway = Gateway(app)
        app.services["gateway"] = gateway
        await nursery.start(gateway.run)
        proc_env = {**os.environ, **env}
        proc_env.pop("MOLTBOT_CONFIG_PATH", None)
        done = await trio.run_process(
            [MOLTBOT, "alerts", "test"], capture_stdout=True, capture_stderr=True, check=False, env=proc_env
        )
        nursery.cancel_scope.cancel()
    out = (done.stdout + done.stderr).decode()
    assert done.returncode == 0, out
    assert "log: ok" in out and "channel: ok" in out
    echo = channels.channels["echo"].channel
    assert [(m.target, m.text) for m in echo.outbox] == [  # type: ignore[attr-defined]
        ("owner-1", "[WARNING] test.alert 1 > 0 — test alert from `moltbot alerts test`")
    ]

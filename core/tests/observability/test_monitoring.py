"""Thresholds fire on crossing, repeat sparingly, resolve with hysteresis; sinks are isolated."""

from datetime import UTC, datetime

import pytest
import trio
from loguru import logger

import moltbot
from moltbot.config.model import ThresholdsConfig
from moltbot.default_plugins.alerts_log import LogAlertSink
from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.metrics.service import MetricsService
from moltbot.monitoring.history import AlertHistory
from moltbot.monitoring.rpc import AlertsListParams, alerts_list
from moltbot.monitoring.rules import ThresholdEvaluator, watches
from moltbot.monitoring.service import MonitorService
from moltbot.testing import build_context
from moltbot.testing.conformance import AlertSinkConformance, AlertSinkHarness


def metrics(cpu: float = 0.1, memory: float = 0.2, error_rate: float = 0.0) -> dict:
    return {"system": {"cpuUsage": cpu, "memoryUsage": memory}, "gateway": {"errorRate": error_rate}}


def evaluator() -> ThresholdEvaluator:
    return ThresholdEvaluator(watches(ThresholdsConfig()), repeat=1800, hysteresis=0.05)


def summary(alerts: list[Alert]) -> list[tuple[str, str, str]]:
    return [(a.metric, a.level, a.state) for a in alerts]


def test_fires_once_on_crossing_and_repeats_after_the_interval() -> None:
    ev = evaluator()
    assert ev.evaluate(metrics(cpu=0.5), 0) == []
    assert summary(ev.evaluate(metrics(cpu=0.85), 60)) == [("system.cpuUsage", "warning", "firing")]
    for t in range(120, 1860, 60):
        assert ev.evaluate(metrics(cpu=0.86), t) == [], f"repeated too early at {t}s"
    again = ev.evaluate(metrics(cpu=0.86), 1860)
    assert summary(again) == [("system.cpuUsage", "warning", "firing")]
    assert again[0].current_value == 0.86 and again[0].threshold == 0.8


def test_hysteresis_holds_until_clearly_below() -> None:
    ev = evaluator()
    ev.evaluate(metrics(cpu=0.85), 0)
    assert ev.evaluate(metrics(cpu=0.78), 60) == []  # below 0.8 but within the 0.05 band
    assert ev.evaluate(metrics(cpu=0.81), 120) == []  # back up: no new alert, still the same one
    resolved = ev.evaluate(metrics(cpu=0.74), 180)
    assert summary(resolved) == [("system.cpuUsage", "warning", "resolved")]
    assert "back to 74%" in resolved[0].message
    assert ev.evaluate(metrics(cpu=0.74), 240) == []


def test_escalates_and_de_escalates_between_levels() -> None:
    ev = evaluator()
    assert summary(ev.evaluate(metrics(cpu=0.97), 0)) == [("system.cpuUsage", "critical", "firing")]
    step_down = ev.evaluate(metrics(cpu=0.85), 60)
    assert summary(step_down) == [
        ("system.cpuUsage", "critical", "resolved"),
        ("system.cpuUsage", "warning", "firing"),
    ]
    assert summary(ev.evaluate(metrics(cpu=0.2), 120)) == [("system.cpuUsage", "warning", "resolved")]


def test_memory_and_error_rate_thresholds() -> None:
    ev = evaluator()
    fired = ev.evaluate(metrics(memory=0.95, error_rate=0.3), 0)
    assert summary(fired) == [
        ("system.memoryUsage", "critical", "firing"),
        ("gateway.errorRate", "critical", "firing"),
    ]


class Recording(AlertSink):
    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.closed = False

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    async def aclose(self) -> None:
        self.closed = True


class Exploding(AlertSink):
    async def send(self, alert: Alert) -> None:
        raise ConnectionError("pager is down")


class Hanging(AlertSink):
    async def send(self, alert: Alert) -> None:
        await trio.sleep_forever()


async def test_monitor_service_delivers_despite_failing_sinks(
    make_app, probe, rpc_ctx, autojump_clock
) -> None:
    app = make_app({"monitoring": {"sampleInterval": 1000, "thresholds": {"checkInterval": 5000}}})
    app.services["metrics"] = MetricsService(app, probe)
    good = Recording()
    monitor = MonitorService(app, sinks={"boom": Exploding(), "hang": Hanging(), "good": good})
    app.services["monitor"] = monitor
    async with trio.open_nursery() as nursery:
        await nursery.start(app.services["metrics"].run)
        await nursery.start(monitor.run)
        probe.set(cpu=0.99)
        await trio.sleep(31)  # a hung sink costs its own deadline, not the others' delivery
        assert summary(good.alerts) == [("system.cpuUsage", "critical", "firing")]
        probe.set(cpu=0.1)
        await trio.sleep(30)
        nursery.cancel_scope.cancel()
    assert summary(good.alerts)[-1] == ("system.cpuUsage", "critical", "resolved")
    assert good.closed
    history = AlertHistory.for_state_dir(app.paths.state_dir).entries()
    assert [e["state"] for e in history] == ["firing", "resolved"]
    assert history[0]["deliveries"]["good"] == "ok"
    assert history[0]["deliveries"]["boom"].startswith("error: ConnectionError")
    assert history[0]["deliveries"]["hang"].startswith("error: TooSlowError")
    assert app.metrics.counter("monitoring.alerts_sent", outcome="error") == 4
    listed = await alerts_list(rpc_ctx(app, AlertsListParams(limit=1)))
    assert [a["state"] for a in listed["alerts"]] == ["resolved"] and listed["active"] == {}


async def test_disabled_monitoring_sends_nothing(make_app, probe, autojump_clock) -> None:
    app = make_app({"monitoring": {"enabled": False}})
    app.services["metrics"] = MetricsService(app, probe)
    probe.set(cpu=1.0)
    good = Recording()
    monitor = MonitorService(app, sinks={"good": good})
    async with trio.open_nursery() as nursery:
        await nursery.start(monitor.run)
        await trio.sleep(3600)
        nursery.cancel_scope.cancel()
    assert good.alerts == [] and monitor.checks == 0


def test_history_keeps_only_the_newest(tmp_path) -> None:
    history = AlertHistory(tmp_path / "alerts.json", size=3)
    for i in range(5):
        alert = Alert(
            level="warning", metric=f"m{i}", current_value=1, threshold=0, message="x", time=datetime.now(UTC)
        )
        history.record(alert, {"log": "ok"})
    assert [e["metric"] for e in history.entries()] == ["m2", "m3", "m4"]
    (tmp_path / "alerts.json").write_text("{not json")
    assert history.entries() == []


def test_unknown_alert_sink_type_is_a_config_error(make_app) -> None:
    with pytest.raises(moltbot.ConfigError, match="pagerduty"):
        make_app({"monitoring": {"alertSinks": [{"type": "pagerduty"}]}})


class TestLogAlertSinkConformance(AlertSinkConformance):
    @pytest.fixture
    async def alert_harness(self, tmp_path):
        seen: list[str] = []
        handler = logger.add(lambda m: seen.append(m.record["extra"]["alert_metric"]), format="{message}")
        sink = LogAlertSink(moltbot.NoConfig(), build_context(tmp_path, "log"))

        async def received() -> list[str]:
            return seen

        yield AlertSinkHarness(sink=sink, received=received)
        logger.remove(handler)

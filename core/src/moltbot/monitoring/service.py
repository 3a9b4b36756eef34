"""The ``monitor`` service: checks the metrics snapshot every ``checkInterval`` and alerts.

Runs after the ``metrics`` service; alerts go to every configured alert sink, into the
persisted history, and to connected operators as a gateway ``alert`` event when the gateway
runs in this process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.interfaces.service import Service
from moltbot.monitoring.dispatch import build_alert_sinks, close_all, deliver
from moltbot.monitoring.history import AlertHistory, alert_dict
from moltbot.monitoring.rules import ThresholdEvaluator, watches

if TYPE_CHECKING:
    from moltbot.app import App


class MonitorService(Service):
    """``app.services["monitor"]``."""

    def __init__(self, app: App, sinks: dict[str, AlertSink] | None = None) -> None:
        self.app = app
        config = app.settings.monitoring
        self.interval = config.thresholds.check_interval / 1000
        self.sinks = sinks if sinks is not None else build_alert_sinks(app)
        self.evaluator = ThresholdEvaluator(
            watches(config.thresholds),
            repeat=config.repeat_minutes * 60,
            hysteresis=config.thresholds.hysteresis,
        )
        self.history = AlertHistory.for_state_dir(app.paths.state_dir, config.history_size)
        self.checks = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            if not self.app.settings.monitoring.enabled:
                await trio.sleep_forever()
            while True:
                await trio.sleep(self.interval)
                await self.check()
        finally:
            with trio.CancelScope(shield=True):
                await close_all(self.sinks)

    async def check(self) -> list[Alert]:
        """Evaluate the latest snapshot once and deliver whatever it raised."""
        self.checks += 1
        snapshot = self.app.service("metrics").snapshot()
        alerts = self.evaluator.evaluate(snapshot, trio.current_time())
        for alert in alerts:
            await self.publish(alert)
        return alerts

    async def publish(self, alert: Alert) -> dict[str, str]:
        results = await deliver(alert, self.sinks, self.app)
        try:
            self.history.record(alert, results)
        except OSError as exc:
            logger.bind(subsystem="monitoring").warning("could not record alert history: {}", exc)
        gateway = self.app.services.get("gateway")
        if gateway is not None:
            gateway.broadcast("alert", alert_dict(alert))
        return results

    def status(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "sinks": sorted(self.sinks),
            "active": {
                metric: {"level": a.level, "threshold": a.threshold}
                for metric, a in self.evaluator.active.items()
            },
        }

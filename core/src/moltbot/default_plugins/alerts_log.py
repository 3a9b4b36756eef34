"""The built-in ``log`` alert sink: alerts become log records (warning, error, or info when
resolved), so every configured log sink carries them too."""

from __future__ import annotations

from collections.abc import Iterator

from loguru import logger

from moltbot import hookimpl
from moltbot.config.base import NoConfig
from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.specs import AlertSinkSpec, BuildContext

_LEVEL = {"warning": "WARNING", "critical": "ERROR"}


class LogAlertSink(AlertSink):
    def __init__(self, config: NoConfig, ctx: BuildContext) -> None:
        self.sent = 0

    async def send(self, alert: Alert) -> None:
        level = "INFO" if alert.state == "resolved" else _LEVEL[alert.level]
        logger.bind(
            subsystem="monitoring",
            alert_metric=alert.metric,
            alert_state=alert.state,
            alert_level=alert.level,
            value=alert.current_value,
            threshold=alert.threshold,
        ).log(level, "alert {} [{}]: {}", alert.state, alert.level, alert.message)
        self.sent += 1


@hookimpl
def moltbot_register_alert_sinks() -> Iterator[AlertSinkSpec]:
    yield AlertSinkSpec(name="log", factory=LogAlertSink, config=NoConfig, summary="Alerts as log records")

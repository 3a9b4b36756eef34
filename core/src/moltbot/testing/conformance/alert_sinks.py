"""Conformance suite for alert sinks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from moltbot.interfaces import (
    Alert,
    AlertSink,
)
from moltbot.testing.conformance._common import wait_until


@dataclass
class AlertSinkHarness:
    sink: AlertSink
    received: Callable[[], Awaitable[list[str]]]
    """Metric names of the alerts that reached the destination."""


class AlertSinkConformance:
    """Provide an async ``alert_harness`` fixture returning an :class:`AlertSinkHarness`."""

    async def test_alert_is_delivered(self, alert_harness: AlertSinkHarness) -> None:
        alert = Alert(
            level="critical",
            metric="system.cpuUsage",
            current_value=0.97,
            threshold=0.95,
            message="CPU usage is critically high",
            time=datetime.now(UTC),
        )
        await alert_harness.sink.send(alert)

        async def arrived() -> bool:
            return "system.cpuUsage" in await alert_harness.received()

        await wait_until(arrived, "the alert to arrive")
        await alert_harness.sink.aclose()

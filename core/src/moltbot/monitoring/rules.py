"""Threshold evaluation without alert storms.

Each watched metric has escalating levels (CPU: warning then critical). An alert fires when the
value crosses into a level, repeats at most every ``repeat`` seconds while it stays there, and
resolves only when the value falls ``hysteresis`` below the threshold, so a value hovering at
the line does not flap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from moltbot.interfaces.alert_sink import Alert

Level = Literal["warning", "critical"]
_RANK = {"warning": 1, "critical": 2}


@dataclass(frozen=True)
class Watch:
    """One metric of the ``Metrics`` dict (``section.key``) and its ``(level, threshold)`` steps."""

    metric: str
    label: str
    steps: tuple[tuple[Level, float], ...]

    def value(self, metrics: dict[str, Any]) -> float:
        section, key = self.metric.split(".")
        return float(metrics[section][key])


def watches(thresholds: Any) -> list[Watch]:
    """The seed's checks, from ``monitoring.thresholds``."""
    return [
        Watch(
            "system.cpuUsage",
            "CPU usage",
            (("warning", thresholds.cpu_warning), ("critical", thresholds.cpu_critical)),
        ),
        Watch("system.memoryUsage", "Memory usage", (("critical", thresholds.memory_critical),)),
        Watch("gateway.errorRate", "Gateway error rate", (("critical", thresholds.error_rate_critical),)),
    ]


@dataclass
class _Active:
    level: Level
    threshold: float
    last_sent: float


class ThresholdEvaluator:
    """Call :meth:`evaluate` with each ``Metrics`` snapshot and a monotonic ``now`` (seconds)."""

    def __init__(
        self,
        watched: list[Watch],
        *,
        repeat: float,
        hysteresis: float,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.watched = watched
        self.repeat = repeat
        self.hysteresis = hysteresis
        self.wall_clock = wall_clock
        self.active: dict[str, _Active] = {}

    def evaluate(self, metrics: dict[str, Any], now: float) -> list[Alert]:
        alerts: list[Alert] = []
        for watch in self.watched:
            alerts += self._check(watch, watch.value(metrics), now)
        return alerts

    def _check(self, watch: Watch, value: float, now: float) -> list[Alert]:
        current = self.active.get(watch.metric)
        target: tuple[Level, float] | None = None
        for level, threshold in watch.steps:
            held = current is not None and current.level == level
            if value > threshold or (held and value > threshold - self.hysteresis):
                target = (level, threshold)  # steps ascend, so the last match is the highest
        if current is None and target is None:
            return []
        if target is None:
            assert current is not None
            del self.active[watch.metric]
            return [self._alert(watch, current.level, current.threshold, value, "resolved")]
        level, threshold = target
        if current is None or current.level != level:
            out = []
            if current is not None and _RANK[level] < _RANK[current.level]:
                out.append(self._alert(watch, current.level, current.threshold, value, "resolved"))
            self.active[watch.metric] = _Active(level, threshold, now)
            return [*out, self._alert(watch, level, threshold, value, "firing")]
        if now - current.last_sent >= self.repeat:
            current.last_sent = now
            return [self._alert(watch, level, threshold, value, "firing")]
        return []

    def _alert(
        self, watch: Watch, level: Level, threshold: float, value: float, state: Literal["firing", "resolved"]
    ) -> Alert:
        if state == "firing":
            message = f"{watch.label} is {value:.0%}, above the {level} threshold of {threshold:.0%}"
        else:
            message = f"{watch.label} is back to {value:.0%}, below the {level} threshold of {threshold:.0%}"
        return Alert(
            level=level,
            metric=watch.metric,
            current_value=value,
            threshold=threshold,
            message=message,
            state=state,
            time=self.wall_clock(),
        )

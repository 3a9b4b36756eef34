"""Counters, gauges and timing summaries, keyed by a dotted name plus labels.

Subsystems write here (``app.metrics.inc("gateway.requests", method="health")``); the metrics
service turns it into the seed's ``Metrics`` shape and Prometheus text. Everything runs on the
trio thread, so no locking is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]


@dataclass
class Summary:
    """Count, sum and max of observed durations (seconds)."""

    count: int = 0
    total: float = 0.0
    maximum: float = 0.0

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.maximum = max(self.maximum, value)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


def _labels(labels: dict[str, object]) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


class MetricsRegistry:
    def __init__(self) -> None:
        self.counters: dict[tuple[str, Labels], float] = {}
        self.gauges: dict[tuple[str, Labels], float] = {}
        self.summaries: dict[tuple[str, Labels], Summary] = {}

    def inc(self, name: str, value: float = 1.0, **labels: object) -> None:
        key = (name, _labels(labels))
        self.counters[key] = self.counters.get(key, 0.0) + value

    def set(self, name: str, value: float, **labels: object) -> None:
        self.gauges[(name, _labels(labels))] = value

    def observe(self, name: str, seconds: float, **labels: object) -> None:
        self.summaries.setdefault((name, _labels(labels)), Summary()).observe(seconds)

    def counter(self, name: str, **labels: object) -> float:
        """The sum of a counter over the label sets that include ``labels`` (all when none)."""
        want = set(_labels(labels))
        return sum(v for (n, ls), v in self.counters.items() if n == name and want <= set(ls))

    def gauge(self, name: str) -> float:
        """The sum of a gauge over all its label sets."""
        return sum(v for (n, _), v in self.gauges.items() if n == name)

    def summary(self, name: str) -> Summary:
        """A summary merged over all its label sets."""
        merged = Summary()
        for (n, _), s in self.summaries.items():
            if n == name:
                merged.count += s.count
                merged.total += s.total
                merged.maximum = max(merged.maximum, s.maximum)
        return merged

    def series(self) -> Iterator[tuple[str, str, Labels, float | Summary]]:
        """Every series as ``(kind, name, labels, value)``, for exporters."""
        for (name, labels), value in self.counters.items():
            yield "counter", name, labels, value
        for (name, labels), value in self.gauges.items():
            yield "gauge", name, labels, value
        for (name, labels), summary in self.summaries.items():
            yield "summary", name, labels, summary

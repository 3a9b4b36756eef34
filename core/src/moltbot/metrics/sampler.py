"""Turns registry counters and host readings into the seed's ``Metrics`` shape.

Rates (requests per second, error rate, network bytes per second) are computed over a sliding
window of samples, so one burst does not dominate for ever and an idle gateway decays to zero.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from moltbot.metrics.registry import MetricsRegistry
from moltbot.system import SystemProbe, SystemReading


@dataclass(frozen=True)
class _Point:
    time: float
    requests: float
    errors: float
    net_in: int
    net_out: int


class MetricsSampler:
    """Call :meth:`sample` periodically with a monotonic ``now``; :attr:`latest` is the last
    ``Metrics`` dict."""

    def __init__(self, registry: MetricsRegistry, probe: SystemProbe, *, window: float = 60.0) -> None:
        self.registry = registry
        self.probe = probe
        self.window = window
        self._points: deque[_Point] = deque()
        self.reading: SystemReading | None = None
        self.latest: dict[str, Any] = self.compose(None, 0.0, 0.0, 0.0, 0.0)

    def sample(self, now: float) -> dict[str, Any]:
        reading = self.probe.read()
        reg = self.registry
        point = _Point(
            now,
            reg.counter("gateway.requests"),
            reg.counter("gateway.errors"),
            reading.net_in,
            reading.net_out,
        )
        self._points.append(point)
        while len(self._points) > 2 and now - self._points[1].time >= self.window:
            self._points.popleft()
        first = self._points[0]
        span = now - first.time
        rps = error_rate = net_in = net_out = 0.0
        if span > 0:
            requests = point.requests - first.requests
            rps = requests / span
            error_rate = (point.errors - first.errors) / requests if requests > 0 else 0.0
            net_in = max(point.net_in - first.net_in, 0) / span
            net_out = max(point.net_out - first.net_out, 0) / span
        self.reading = reading
        self.latest = self.compose(reading, rps, min(error_rate, 1.0), net_in, net_out)
        return self.latest

    def compose(
        self, reading: SystemReading | None, rps: float, error_rate: float, net_in: float, net_out: float
    ) -> dict[str, Any]:
        reg = self.registry
        tokens_in = reg.counter("agents.tokens", direction="input")
        tokens_out = reg.counter("agents.tokens", direction="output")
        return {
            "gateway": {
                "uptime": round(reading.process_uptime, 3) if reading else 0.0,
                "activeConnections": int(reg.gauge("gateway.connections")),
                "requestsPerSecond": round(rps, 4),
                "errorRate": round(error_rate, 4),
            },
            "agents": {
                "activeSessions": int(reg.gauge("agents.active_sessions")),
                "averageResponseTime": round(reg.summary("agents.response_seconds").mean * 1000, 3),
                "tokenUsage": {
                    "input": int(tokens_in),
                    "output": int(tokens_out),
                    "total": int(tokens_in + tokens_out),
                },
            },
            "system": {
                "cpuUsage": round(reading.cpu, 4) if reading else 0.0,
                "memoryUsage": round(reading.memory, 4) if reading else 0.0,
                "diskUsage": round(reading.disk, 4) if reading else 0.0,
                "networkIO": {"in": round(net_in, 1), "out": round(net_out, 1)},
            },
            "process": {
                "cpuUsage": round(reading.process_cpu, 4) if reading else 0.0,
                "memoryRss": reading.process_rss if reading else 0,
            },
        }

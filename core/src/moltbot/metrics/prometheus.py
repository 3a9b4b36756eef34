"""Prometheus text exposition of the registry and the sampler's system gauges.

A custom collector reads :class:`MetricsRegistry` at scrape time (names prefixed ``moltbot_``,
dots become underscores); prometheus_client does the escaping and formatting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from moltbot.metrics.registry import MetricsRegistry, Summary

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")

_SNAPSHOT_GAUGES = (
    ("gateway", "uptime", "moltbot_gateway_uptime_seconds", "Seconds since the gateway process started"),
    ("gateway", "requestsPerSecond", "moltbot_gateway_requests_per_second", "Request rate over the window"),
    ("gateway", "errorRate", "moltbot_gateway_error_ratio", "Errors per request over the window"),
    ("system", "cpuUsage", "moltbot_system_cpu_usage_ratio", "Whole-machine CPU busy fraction"),
    ("system", "memoryUsage", "moltbot_system_memory_usage_ratio", "Used fraction of physical memory"),
    ("system", "diskUsage", "moltbot_system_disk_usage_ratio", "Used fraction of the state dir volume"),
    ("process", "cpuUsage", "moltbot_process_cpu_cores", "Gateway process CPU in cores"),
    ("process", "memoryRss", "moltbot_process_resident_memory_bytes", "Gateway resident memory"),
)


def metric_name(name: str) -> str:
    return "moltbot_" + _INVALID.sub("_", name)


class RegistryCollector(Collector):
    """Collects ``registry`` series and, when given, the latest ``Metrics`` snapshot."""

    def __init__(self, registry: MetricsRegistry, snapshot: Any = None) -> None:
        self.registry = registry
        self.snapshot = snapshot
        """A callable returning the latest ``Metrics`` dict, or None."""

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for kind, name, labels, value in self.registry.series():
            base = metric_name(name)
            if kind == "summary" and isinstance(value, Summary):
                family = families.setdefault(base, Metric(base, f"{name} (seconds)", "summary"))
                family.add_sample(base + "_count", dict(labels), value.count)
                family.add_sample(base + "_sum", dict(labels), value.total)
                peak = families.setdefault(base + "_max", Metric(base + "_max", f"max of {name}", "gauge"))
                peak.add_sample(base + "_max", dict(labels), value.maximum)
            else:
                family = families.setdefault(base, Metric(base, name, kind))
                sample = base + "_total" if kind == "counter" else base
                family.add_sample(sample, dict(labels), float(value))
        yield from families.values()
        latest = self.snapshot() if self.snapshot else None
        if latest:
            yield from _snapshot_metrics(latest)


def _snapshot_metrics(latest: dict[str, Any]) -> Iterator[Metric]:
    for section, key, name, doc in _SNAPSHOT_GAUGES:
        metric = Metric(name, doc, "gauge")
        metric.add_sample(name, {}, float(latest[section][key]))
        yield metric
    net = Metric("moltbot_system_network_bytes_per_second", "Network throughput over the window", "gauge")
    for direction in ("in", "out"):
        net.add_sample(net.name, {"direction": direction}, float(latest["system"]["networkIO"][direction]))
    yield net


def exposition(registry: MetricsRegistry, snapshot: Any = None) -> bytes:
    """The Prometheus text format for one scrape."""
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(RegistryCollector(registry, snapshot))
    return generate_latest(collectors)

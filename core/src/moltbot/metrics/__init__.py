"""Process metrics: a small registry subsystems write to, read by ``metrics.get`` and /metrics."""

from moltbot.metrics.registry import MetricsRegistry

__all__ = ["MetricsRegistry"]

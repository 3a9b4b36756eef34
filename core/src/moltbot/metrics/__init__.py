"""Process metrics: a small registry subsystems write to, read by ``metrics.get`` and /metrics.

:class:`MetricsService` samples the host (through a :class:`SystemProbe`) and the registry into
the seed's ``Metrics`` shape; :func:`exposition` renders Prometheus text.
"""

from moltbot.metrics.registry import MetricsRegistry

__all__ = ["MetricsRegistry"]

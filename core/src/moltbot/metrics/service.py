"""The ``metrics`` service: samples the host and the registry every ``monitoring.sampleInterval``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from moltbot.interfaces.service import Service
from moltbot.metrics.sampler import MetricsSampler
from moltbot.system import PsutilProbe, SystemProbe

if TYPE_CHECKING:
    from moltbot.app import App


class MetricsService(Service):
    """``app.services["metrics"]``: :meth:`snapshot` is the latest seed ``Metrics`` dict."""

    def __init__(self, app: App, probe: SystemProbe | None = None, *, interval: float | None = None) -> None:
        monitoring = app.settings.monitoring
        self.interval = interval if interval is not None else monitoring.sample_interval / 1000
        self.sampler = MetricsSampler(
            app.metrics, probe or PsutilProbe(app.paths.state_dir), window=monitoring.rate_window / 1000
        )
        self.samples = 0

    def snapshot(self) -> dict[str, Any]:
        return self.sampler.latest

    def sample_now(self) -> dict[str, Any]:
        """Sample the host and the registry now and keep the result as the latest snapshot."""
        self.samples += 1
        return self.sampler.sample(trio.current_time())

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self.sample_now()
        task_status.started()
        while True:
            await trio.sleep(self.interval)
            self.sample_now()  # psutil reads a few /proc files: well under a millisecond

    def status(self) -> dict[str, Any]:
        return {"samples": self.samples, "intervalSeconds": self.interval}

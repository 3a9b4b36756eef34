"""The running application: paths, validated settings, plugins, and the subsystems started."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moltbot.config import Paths, Settings
from moltbot.metrics import MetricsRegistry
from moltbot.plugins import Plugins


@dataclass
class App:
    """Handed to lifecycle hooks and RPC handlers.

    ``services`` holds the subsystems the runtime started (``"gateway"``, ...) so handlers can
    reach them without import cycles; each subsystem documents its key. ``metrics`` is where
    every subsystem records counters, gauges and timings.
    """

    paths: Paths
    settings: Settings
    plugins: Plugins
    services: dict[str, Any] = field(default_factory=dict)
    metrics: MetricsRegistry = field(default_factory=MetricsRegistry)

    def service(self, name: str) -> Any:
        try:
            return self.services[name]
        except KeyError:
            raise LookupError(f"subsystem {name!r} is not running in this process") from None

"""The built-in ``resources`` service: admission control and memory-pressure checks."""

from __future__ import annotations

from collections.abc import Iterator

from moltbot import hookimpl
from moltbot.app import App
from moltbot.resources import PsutilProbe, ResourceManager
from moltbot.specs import ServiceSpec


def build_resource_manager(app: App) -> ResourceManager:
    return ResourceManager(
        app.settings.performance, probe=PsutilProbe(app.paths.state_dir), metrics=app.metrics
    )


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name="resources",
        factory=build_resource_manager,
        summary="Limits on agent runs, exec processes and browsers; GC and cache shedding under memory pressure",
    )

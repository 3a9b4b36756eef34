"""Builds the configured alert sinks and delivers one alert to all of them at once.

Each sink gets its own deadline and its own ``try``: a sink that raises or hangs is reported
and counted, and never keeps the alert from the others (the seed's callback loop's intent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio
from loguru import logger

from moltbot.config.load import plugin_config
from moltbot.config.model import PluginSection
from moltbot.errors import ConfigError, PluginError
from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.specs import BuildContext

if TYPE_CHECKING:
    from moltbot.app import App

SEND_TIMEOUT = 15.0


def build_alert_sinks(app: App) -> dict[str, AlertSink]:
    """One sink per ``monitoring.alertSinks[]``, attached to ``app``; the built-in ``log`` sink
    when none is listed. A factory's :class:`ConfigError` is reported under the entry's path."""
    specs = app.plugins.alert_sinks()
    entries = list(app.settings.monitoring.alert_sinks) or [PluginSection(type="log")]
    sinks: dict[str, AlertSink] = {}
    for i, entry in enumerate(entries):
        spec = specs.get(entry.type)
        if spec is None:
            raise PluginError(f"monitoring.alertSinks[{i}]: no installed plugin provides {entry.type!r}")
        ctx = BuildContext(
            name=entry.type, state_dir=app.paths.state_dir / "monitoring", settings=app.settings
        )
        key = entry.type if entry.type not in sinks else f"{entry.type}#{i}"
        try:
            sink = spec.factory(plugin_config(spec, entry.config), ctx)
        except ConfigError as exc:
            where = f"monitoring.alertSinks[{i}]"
            raise ConfigError(
                [(f"{where}.{path}" if path else where, message) for path, message in exc.problems],
                source=str(app.paths.config_path),
            ) from None
        sink.attach(app)
        sinks[key] = sink
    return sinks


async def deliver(alert: Alert, sinks: dict[str, AlertSink], app: App | None = None) -> dict[str, str]:
    """Send to every sink concurrently; ``{sink: "ok" | "error: ..."}``."""
    results: dict[str, str] = {}

    async def one(name: str, sink: AlertSink) -> None:
        try:
            with trio.fail_after(SEND_TIMEOUT):
                await sink.send(alert)
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}: {exc}"
            logger.bind(subsystem="monitoring", sink=name).warning(
                "alert sink {} failed: {}", name, results[name]
            )
        else:
            results[name] = "ok"
        if app is not None:
            outcome = "ok" if results[name] == "ok" else "error"
            app.metrics.inc("monitoring.alerts_sent", sink=name, outcome=outcome)

    async with trio.open_nursery() as nursery:
        for name, sink in sinks.items():
            nursery.start_soon(one, name, sink)
    return results


async def close_all(sinks: dict[str, AlertSink]) -> None:
    for name, sink in sinks.items():
        try:
            await sink.aclose()
        except Exception as exc:
            logger.bind(subsystem="monitoring").warning("closing alert sink {} failed: {}", name, exc)

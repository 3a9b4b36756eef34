"""Logging, metrics and monitoring as a built-in plugin: their services, RPC methods, HTTP
routes and CLI commands."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import TYPE_CHECKING

import click

from moltbot import hookimpl
from moltbot.specs import CommandSpec, MethodSpec, RouteSpec, ServiceSpec

if TYPE_CHECKING:
    from moltbot.app import App
    from moltbot.interfaces import Service


def _logs_service(app: App) -> Service:
    from moltbot.logs import active_logging
    from moltbot.logs.service import LogsService

    return LogsService(active_logging(app))


def _metrics_service(app: App) -> Service:
    from moltbot.metrics.service import MetricsService

    return MetricsService(app)


def _monitor_service(app: App) -> Service:
    from moltbot.monitoring.service import MonitorService

    return MonitorService(app)


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(name="logs", factory=_logs_service, summary="Drains queued log sinks")
    yield ServiceSpec(name="metrics", factory=_metrics_service, summary="Samples host and gateway metrics")
    yield ServiceSpec(
        name="monitor",
        factory=_monitor_service,
        after=("metrics",),
        summary="Threshold alerts",
        events=("alert",),
    )


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    from moltbot.logs.rpc import TailParams, logs_tail
    from moltbot.metrics.http import metrics_get
    from moltbot.monitoring.rpc import AlertsListParams, alerts_list

    yield MethodSpec(
        name="logs.tail", handler=logs_tail, params=TailParams, summary="Recent log records (redacted)"
    )
    yield MethodSpec(name="metrics.get", handler=metrics_get, summary="Gateway, agent and system metrics")
    yield MethodSpec(
        name="alerts.list", handler=alerts_list, params=AlertsListParams, summary="Recent monitoring alerts"
    )


@hookimpl
def moltbot_register_http_routes() -> Iterator[RouteSpec]:
    from moltbot.metrics.http import json_route, prometheus_route

    yield RouteSpec(path="/metrics", handler=prometheus_route, summary="Prometheus metrics")
    yield RouteSpec(path="/api/metrics", handler=json_route, summary="Metrics as JSON")


def _lazy(module: str, name: str) -> click.Command:
    return getattr(import_module(module), f"{name}_command")


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(
        name="metrics",
        factory=lambda: _lazy("moltbot.cli.metrics_cmd", "metrics"),
        summary="Show gateway, agent and system metrics",
    )
    yield CommandSpec(
        name="alerts",
        factory=lambda: _lazy("moltbot.cli.alerts_cmd", "alerts"),
        summary="List recent alerts or send a test alert",
    )

"""The gateway's own read methods: ``health``, ``status``, ``system-presence``."""

from __future__ import annotations

import os
import time
from typing import Any

import psutil

from moltbot import __version__
from moltbot.gateway.http import service_statuses
from moltbot.interfaces.rpc import RpcContext

_PROCESS = psutil.Process()


def health_payload(app: Any) -> dict[str, Any]:
    """OpenClaw's ``health`` shape, with moltbot's services added."""
    started = time.perf_counter()
    records = app.plugins.records()
    services = service_statuses(app)
    reload_status = services.get("config-reload", {})
    channels = services.get("channels", {}).get("channels", {})
    return {
        "ok": all(s.get("ok") is not False for s in services.values()),
        "ts": int(time.time() * 1000),
        "durationMs": int((time.perf_counter() - started) * 1000),
        "plugins": {
            "loaded": [r.name for r in records if r.status == "active"],
            "errors": [{"name": r.name, "reason": r.reason} for r in records if r.status == "failed"],
            "unavailable": [r.name for r in records if r.status == "blocked"],
        },
        "configReload": {"hotReloadStatus": reload_status.get("hotReloadStatus", "off")},
        "channels": channels,
        "channelOrder": sorted(channels),
        "services": services,
    }


HEALTH_TTL = 1.0
"""Seconds a ``health`` snapshot is reused; ``{"probe": true}`` always takes a fresh one."""


async def health(ctx: RpcContext) -> dict[str, Any]:
    gateway = ctx.app.services.get("gateway")
    params = ctx.params if isinstance(ctx.params, dict) else {}
    if gateway is None:
        return health_payload(ctx.app)
    now = time.monotonic()
    cached = gateway.health_cache
    if params.get("probe") or cached is None or cached[0] <= now:
        cached = (now + HEALTH_TTL, health_payload(ctx.app))
        gateway.health_cache = cached
    return cached[1]


async def status(ctx: RpcContext) -> dict[str, Any]:
    app = ctx.app
    gateway = app.services.get("gateway")
    memory = _PROCESS.memory_info()
    return {
        "runtimeVersion": __version__,
        "pid": os.getpid(),
        "gateway": gateway.status() if gateway is not None else None,
        "services": service_statuses(app),
        "processMemory": {"rssBytes": memory.rss, "vmsBytes": memory.vms},
        "configPath": str(app.paths.config_path),
        "stateDir": str(app.paths.state_dir),
        "metrics": {
            "requests": app.metrics.counter("gateway.requests"),
            "errors": app.metrics.counter("gateway.errors"),
            "connections": app.metrics.gauge("gateway.connections"),
        },
    }


async def system_presence(ctx: RpcContext) -> list[dict[str, Any]]:
    gateway = ctx.app.services.get("gateway")
    return gateway.presence() if gateway is not None else []

"""Built-in services ``resources`` (admission control, memory pressure) and ``cache`` (the
multi-level cache), the ``moltbot cache`` command and the ``cache.*`` gateway methods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from moltbot import hookimpl
from moltbot.app import App
from moltbot.cache import Cache, SupportsStats, build_backend, check_namespace
from moltbot.config.base import StrictModel
from moltbot.interfaces.rpc import RpcContext, RpcError
from moltbot.resources import ResourceManager
from moltbot.specs import CommandSpec, MethodSpec, ServiceSpec
from moltbot.system import PsutilProbe

CPU_WINDOW = 5.0
"""Seconds an admission CPU reading covers at least; shorter ones are too spiky to refuse work."""


def build_resource_manager(app: App) -> ResourceManager:
    return ResourceManager(
        app.settings.performance,
        probe=PsutilProbe(app.paths.state_dir, cpu_window=CPU_WINDOW),
        metrics=app.metrics,
    )


def build_cache(app: App) -> Cache:
    """The cache over the configured backend; it sheds into ``resources`` when that runs."""
    return Cache(
        app.settings.cache,
        build_backend(app.settings, app.plugins, app.paths.state_dir),
        metrics=app.metrics,
        resources=lambda: app.services.get("resources"),
    )


class CacheClearParams(StrictModel):
    namespace: str | None = None


async def cache_stats(ctx: RpcContext) -> dict[str, Any]:
    """Both levels: memory counters from the running cache, the backend's own count."""
    cache: Cache = ctx.app.service("cache")
    stats = cache.stats()
    if isinstance(cache.backend, SupportsStats):
        try:
            stats["backendStats"] = await cache.backend.stats()
        except Exception as exc:
            raise RpcError("UNAVAILABLE", f"the cache backend cannot be read: {exc}", retryable=True) from exc
    return stats


async def cache_clear(ctx: RpcContext) -> dict[str, Any]:
    namespace = ctx.params.namespace
    try:
        if namespace:
            check_namespace(namespace)
    except ValueError as exc:
        raise RpcError("INVALID_REQUEST", str(exc)) from None
    try:
        removed = await ctx.app.service("cache").clear(namespace)
    except Exception as exc:
        raise RpcError("UNAVAILABLE", f"the cache backend cannot be cleared: {exc}", retryable=True) from exc
    return {"removed": removed, "namespace": namespace}


def _cache_command() -> click.Command:
    from moltbot.cli.cache_cmd import cache_command

    return cache_command


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name="resources",
        factory=build_resource_manager,
        summary="Limits on agent runs, exec processes, browsers; GC and cache shedding on memory pressure",
    )
    yield ServiceSpec(
        name="cache",
        factory=build_cache,
        after=("resources",),
        summary="Memory LRU in front of the cache backend; evicts expired entries",
    )


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(
        name="cache", factory=_cache_command, summary="Show cache statistics or clear the cache"
    )


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    yield MethodSpec(name="cache.stats", handler=cache_stats, summary="Cache entries, bytes, hits and misses")
    yield MethodSpec(
        name="cache.clear",
        handler=cache_clear,
        scope="operator.admin",
        params=CacheClearParams,
        summary="Remove cached entries, all or one namespace",
    )

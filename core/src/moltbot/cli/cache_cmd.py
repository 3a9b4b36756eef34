"""``moltbot cache stats|clear``: the cache backend as seen from outside the gateway.

The command opens the configured backend itself (the disk backend is safe to share with a
running gateway). The memory level lives inside the gateway process; its counters come from
the ``cache.stats`` gateway method, and a running gateway's memory level is cleared by
``cache.clear``, not by this command.
"""

from __future__ import annotations

import json
from typing import Any

import click
import trio

from moltbot.cache import SupportsStats, build_backend, check_namespace, opened
from moltbot.cli.state import CliState, pass_state
from moltbot.interfaces.cache import CacheBackend


@click.group("cache")
def cache_command() -> None:
    """Show cache statistics or clear cached entries."""


@cache_command.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def stats_command(state: CliState, as_json: bool) -> None:
    """Entries and bytes held by the cache backend, per namespace."""
    settings = state.settings()
    backend = build_backend(settings, state.plugins, state.paths.state_dir)
    stats = trio.run(_stats, backend)
    stats = {"backend": settings.cache.backend, "enabled": settings.cache.enabled, **stats}
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(f"backend: {stats['backend']}" + ("" if stats["enabled"] else " (cache.enabled is false)"))
    if "path" in stats:
        click.echo(f"file: {stats['path']} ({_size(stats['fileBytes'])} on disk)")
    size = "" if stats.get("bytes") is None else f", {_size(stats['bytes'])}"
    click.echo(f"entries: {stats['entries']}{size}")
    for name, ns in sorted(stats.get("namespaces", {}).items()):
        size = "" if ns.get("bytes") is None else f", {_size(ns['bytes'])}"
        click.echo(f"  {name}: {ns['entries']}{size}")
    click.echo("memory level: inside the running gateway (gateway method cache.stats)")


@cache_command.command("clear")
@click.option("--namespace", "-n", help="Only this namespace (e.g. 'sessions'); default: everything.")
@pass_state
def clear_command(state: CliState, namespace: str | None) -> None:
    """Remove cached entries from the backend, all of them or one namespace."""
    if namespace:
        try:
            check_namespace(namespace)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--namespace") from None
    backend = build_backend(state.settings(), state.plugins, state.paths.state_dir)
    removed = trio.run(_clear, backend, f"{namespace}:" if namespace else "")
    what = f"namespace {namespace!r}" if namespace else "the cache"
    click.echo(f"removed {removed} entries from {what}")


async def _stats(backend: CacheBackend) -> dict[str, Any]:
    if not isinstance(backend, SupportsStats):
        raise click.ClickException(f"{type(backend).__name__} cannot report statistics")
    try:
        async with opened(backend):
            return await backend.stats()
    except Exception as exc:
        raise click.ClickException(f"the cache backend failed: {type(exc).__name__}: {exc}") from exc


async def _clear(backend: CacheBackend, prefix: str) -> int:
    try:
        async with opened(backend):
            return await backend.clear(prefix)
    except Exception as exc:
        raise click.ClickException(f"the cache backend failed: {type(exc).__name__}: {exc}") from exc


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} GB"

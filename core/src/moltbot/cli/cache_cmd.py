"""``moltbot cache stats|clear``.

``stats`` asks the running gateway's ``cache.stats`` method (both levels: the memory LRU lives
in the gateway process) and falls back to opening the configured backend itself when no gateway
answers, saying which source it used. ``clear`` opens the backend directly (the disk backend is
safe to share with a running gateway); a running gateway's memory level is cleared by the
``cache.clear`` method, not by this command.
"""

from __future__ import annotations

import json
from typing import Any

import click
import trio
from trio_websocket import HandshakeError

from moltbot.cache import SupportsStats, build_backend, check_namespace, opened
from moltbot.cli.client_cmd import client_options, target
from moltbot.cli.state import CliState, pass_state
from moltbot.gateway.client import ConnectOptions, GatewayClosed, connect
from moltbot.interfaces.cache import CacheBackend
from moltbot.interfaces.rpc import RpcError

CONNECT_TIMEOUT = 3.0
"""Seconds to wait for a gateway handshake before showing the backend alone."""


@click.group("cache")
def cache_command() -> None:
    """Show cache statistics or clear cached entries."""


@cache_command.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@client_options
@pass_state
def stats_command(
    state: CliState, as_json: bool, url: str | None, token: str | None, password: str | None
) -> None:
    """Entries and bytes per namespace; with a running gateway also its memory level and hits."""
    settings = state.settings()
    where, opts = target(state, url, token, password)
    running = _gateway_stats(where, opts)
    if running is not None:
        stats = {
            **running.get("backendStats", {}),
            "source": "gateway",
            "gateway": where,
            "backend": settings.cache.backend,
            "enabled": running.get("enabled", settings.cache.enabled),
            **{k: running[k] for k in _LIVE if k in running},
        }
    else:
        backend = build_backend(settings, state.plugins, state.paths.state_dir)
        stats = {
            **trio.run(_stats, backend),
            "source": "backend",
            "backend": settings.cache.backend,
            "enabled": settings.cache.enabled,
        }
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    if stats["source"] == "gateway":
        click.echo(f"source: the running gateway at {where} (cache.stats)")
    else:
        click.echo(f"source: the backend alone (no gateway answered at {where})")
    click.echo(f"backend: {stats['backend']}" + ("" if stats["enabled"] else " (cache.enabled is false)"))
    if "path" in stats:
        click.echo(f"file: {stats['path']} ({_size(stats['fileBytes'])} on disk)")
    size = "" if stats.get("bytes") is None else f", {_size(stats['bytes'])}"
    if "entries" in stats:
        click.echo(f"entries: {stats['entries']}{size}")
    for name, ns in sorted(stats.get("namespaces", {}).items()):
        size = "" if ns.get("bytes") is None else f", {_size(ns['bytes'])}"
        click.echo(f"  {name}: {ns['entries']}{size}")
    if "memory" in stats:
        memory = stats["memory"]
        click.echo(
            f"memory level: {memory['entries']} of {memory['maxEntries']} entries, "
            f"{_size(memory['bytes'])} of {_size(memory['maxBytes'])}, {memory['evictions']} evictions"
        )
        click.echo(
            f"hits: {stats['memoryHits']} memory, {stats['backendHits']} backend; "
            f"misses: {stats['misses']}; backend errors: {stats['backendErrors']}"
        )
    else:
        click.echo("memory level: lives in the gateway process (not running, so nothing to show)")


_LIVE = ("memory", "memoryHits", "backendHits", "misses", "backendErrors")
"""Counters of the running cache that only the gateway process knows."""


def _gateway_stats(url: str, opts: ConnectOptions) -> dict[str, Any] | None:
    """The running gateway's ``cache.stats``, or ``None`` when no gateway answers at ``url``.

    A gateway that answers but refuses (bad credentials, the cache service not running) is an
    error, not a reason to show other figures.
    """

    async def ask() -> dict[str, Any]:
        async with connect(url, opts, timeout=CONNECT_TIMEOUT) as client:
            return await client.call("cache.stats")

    try:
        return trio.run(ask)
    except RpcError as exc:
        raise click.ClickException(f"the gateway at {url} answered {exc.code}: {exc.message}") from None
    except GatewayClosed as exc:
        raise click.ClickException(f"the gateway at {url}: {exc}") from None
    except (OSError, trio.TooSlowError, HandshakeError):
        return None


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

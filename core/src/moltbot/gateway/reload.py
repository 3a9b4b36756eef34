"""Config hot reload: poll the file, debounce editor churn, validate, apply or keep the last good.

A valid change replaces ``app.settings``, is applied to the gateway's live parts (auth, origins,
proxies, limits) and handed to every service's ``apply_settings``, and is announced with a
``config.changed`` event whose ``restartRequired`` lists every changed path outside
:data:`LIVE_PATHS`. An invalid edit is logged and ignored.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from moltbot.config import load_settings, read_raw
from moltbot.config.store import content_hash
from moltbot.errors import ConfigError

if TYPE_CHECKING:
    from moltbot.app import App
    from moltbot.config.model import Settings
    from moltbot.gateway.server import Gateway

LIVE_PATHS = (
    "$schema",
    # the gateway's own live parts (Gateway.apply_settings)
    "gateway.auth",
    "gateway.controlUi.allowedOrigins",
    "gateway.controlUi.enabled",
    "gateway.trustedProxies",
    "performance.gateway.maxConnections",
    "performance.gateway.connectionTimeout",
    "performance.gateway.requestTimeout",
    "performance.gateway.rateLimiting",
    "performance.gateway.maxBufferedBytes",
    "performance.gateway.tickInterval",
    "performance.gateway.shutdownTimeout",
    # the channels service: access rules at once; added, removed or changed accounts are
    # started, stopped or restarted one by one (ChannelsService.apply_settings)
    "channels",
    # resolved per agent run: tool policy, sandbox, the model (providers rebuilt on change)
    "tools.profile",
    "tools.allow",
    "tools.deny",
    "tools.byAgent",
    "agents.defaults.sandbox",
    "agent.model",
    "models",
)
"""Dotted path patterns (``*`` = one key) that a running process really takes; every other
change is built into a subsystem at start and is reported as needing a restart."""


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by dotted path (lists are leaves)."""
    if isinstance(node, dict) and node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: node}


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = flatten(dict(old)), flatten(dict(new))
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def applies_live(path: str) -> bool:
    """True when ``path`` is, or lies under, one of :data:`LIVE_PATHS`."""
    keys = path.split(".")
    for pattern in LIVE_PATHS:
        parts = pattern.split(".")
        if len(keys) >= len(parts) and all(p in ("*", k) for p, k in zip(parts, keys, strict=False)):
            return True
    return False


class ConfigReloader:
    """``app.services["config-reload"]``: watches ``app.paths.config_path``."""

    def __init__(
        self,
        app: App,
        gateway: Gateway,
        *,
        interval: float = 0.5,
        debounce: float = 0.2,
        env: Mapping[str, str] | None = None,
        adjust: Callable[[Settings], Settings] | None = None,
    ) -> None:
        self.app = app
        self.gateway = gateway
        self.adjust = adjust
        """Re-applies what outranks the file (command-line overrides) to each reloaded config."""
        self.interval = interval
        self.debounce = debounce
        self.env = os.environ if env is None else env
        self.path = app.paths.config_path
        self._stamp = self._stat()
        self._hash = self._file_hash()
        self.last_error: str | None = None
        self.last_reload_ms: int | None = None
        self.pending_restart: list[str] = []

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _file_hash(self) -> str | None:
        try:
            return content_hash(read_raw(self.path))
        except ConfigError:
            return None

    def status(self) -> dict[str, Any]:
        return {
            "ok": True,
            "hotReloadStatus": "active",
            "lastReloadMs": self.last_reload_ms,
            "lastError": self.last_error,
            "restartRequired": self.pending_restart,
        }

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self.interval)
            await self.check()

    async def check(self, *, force: bool = False) -> dict[str, Any]:
        """Reload when the file changed; returns what happened (``changed``, ``restartRequired``)."""
        stamp = self._stat()
        if stamp == self._stamp and not force:
            return {"ok": True, "changed": []}
        while self.debounce > 0 and not force:
            await trio.sleep(self.debounce)
            settled = self._stat()
            if settled == stamp:
                break
            stamp = settled
        self._stamp = stamp
        try:
            digest = content_hash(read_raw(self.path))
            if digest == self._hash:
                return {"ok": True, "changed": []}
            settings = load_settings(self.path, self.app.plugins, self.env)
            if self.adjust is not None:
                settings = self.adjust(settings)
        except ConfigError as exc:
            self.last_error = exc.render()
            logger.error(
                "config reload skipped (invalid config); the last good config keeps running:\n{}", exc
            )
            return {"ok": False, "error": self.last_error}
        old = self.app.settings
        changed = changed_paths(
            old.model_dump(mode="json", by_alias=True), settings.model_dump(mode="json", by_alias=True)
        )
        restart = [p for p in changed if not applies_live(p)]
        self._hash = digest
        self.last_error = None
        self.last_reload_ms = int(time.time() * 1000)
        self.pending_restart = sorted(set(self.pending_restart) | set(restart))
        self.app.settings = settings
        self.gateway.apply_settings(settings)
        for name, service in list(self.app.services.items()):
            if service is self.gateway or service is self:
                continue
            try:
                apply = getattr(service, "apply_settings", None)
                if apply is not None:
                    apply(settings)
            except Exception:
                logger.exception("service {} could not apply the reloaded config", name)
        if changed:
            logger.info("config reloaded: {} changed", ", ".join(changed))
        if restart:
            logger.warning("config change needs a gateway restart to take effect: {}", ", ".join(restart))
        payload = {"hash": digest, "changed": changed, "restartRequired": restart}
        if changed:
            self.gateway.broadcast("config.changed", payload, scope="operator.read")
        return {"ok": True, **payload}

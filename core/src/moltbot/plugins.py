"""Plugin loading and the typed registry of everything plugins offer.

:class:`Plugins` is an explicit object (there is no global plugin manager): the CLI builds one,
tests build fresh ones. Each entry point loads on its own, so a broken plugin is reported and the
others still load; ``strict=True`` turns any failure into :class:`PluginLoadError`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, TypeVar

import importlib_metadata
import pluggy
from loguru import logger

from moltbot import hookspecs
from moltbot.errors import PluginConflictError, PluginLoadError
from moltbot.specs import (
    AlertSinkSpec,
    CacheBackendSpec,
    ChannelSpec,
    CommandSpec,
    LogSinkSpec,
    MethodSpec,
    ModelProviderSpec,
    RouteSpec,
    ServiceSpec,
    ToolSpec,
    TransportSpec,
)

ENTRY_POINT_GROUP = "moltbot"
CORE_DISTRIBUTION = "moltbot-core"

KINDS: dict[str, tuple[str, type]] = {
    "channels": ("moltbot_register_channels", ChannelSpec),
    "tools": ("moltbot_register_tools", ToolSpec),
    "model_providers": ("moltbot_register_model_providers", ModelProviderSpec),
    "transports": ("moltbot_register_transports", TransportSpec),
    "log_sinks": ("moltbot_register_log_sinks", LogSinkSpec),
    "alert_sinks": ("moltbot_register_alert_sinks", AlertSinkSpec),
    "cache_backends": ("moltbot_register_cache_backends", CacheBackendSpec),
    "commands": ("moltbot_register_commands", CommandSpec),
    "gateway_methods": ("moltbot_register_gateway_methods", MethodSpec),
    "http_routes": ("moltbot_register_http_routes", RouteSpec),
    "services": ("moltbot_register_services", ServiceSpec),
}
"""Kind name -> (registration hook, spec record type)."""

_NAME_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")
_HOOK_NAMES = [n for n in dir(hookspecs) if n.startswith("moltbot_")]

Status = Literal["active", "blocked", "failed"]
S = TypeVar("S")


@dataclass
class PluginRecord:
    """What ``moltbot plugins`` shows for one plugin."""

    name: str
    distribution: str
    version: str
    builtin: bool = False
    status: Status = "active"
    reason: str = ""
    provides: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "status": self.status,
            "reason": self.reason,
            "provides": self.provides,
        }


class Plugins:
    """The plugin manager of one moltbot process, with typed accessors per extension kind."""

    def __init__(
        self,
        *,
        allow: Iterable[str] | None = None,
        deny: Iterable[str] = (),
        strict: bool = False,
    ) -> None:
        self.pm = pluggy.PluginManager("moltbot")
        self.pm.add_hookspecs(hookspecs)
        self.allow = None if allow is None else frozenset(allow)
        self.deny = frozenset(deny)
        self.strict = strict
        self._records: dict[str, PluginRecord] = {}
        self._specs: dict[str, dict[str, Any]] | None = None
        self._owners: dict[tuple[str, str], str] = {}
        if os.environ.get("MOLTBOT_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: logger.debug("plugin trace: {}", msg))
            self.pm.enable_tracing()

    # ------------------------------------------------------------ loading

    def load_builtins(self) -> None:
        """Register moltbot-core's own default plugins, through the same path as any plugin."""
        from moltbot.default_plugins import default_plugins

        version = _version_of(CORE_DISTRIBUTION)
        for name, module_name in default_plugins():
            self._admit(
                name,
                CORE_DISTRIBUTION,
                version,
                builtin=True,
                load=lambda m=module_name: __import__(m, fromlist=["_"]),
            )

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Import and register every installed ``moltbot`` entry point, each one isolated."""
        for ep in sorted(importlib_metadata.entry_points(group=group), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else "(unknown)"
            version = ep.dist.version if ep.dist else ""
            self._admit(ep.name, dist, version, builtin=False, load=ep.load)

    def register(
        self, plugin: object, *, name: str, distribution: str = "(inline)", version: str = ""
    ) -> None:
        """Register an already imported plugin object (tests and embedding applications)."""
        self._admit(name, distribution, version, builtin=False, load=lambda: plugin)

    def _admit(self, name: str, distribution: str, version: str, *, builtin: bool, load: Any) -> None:
        record = PluginRecord(name, distribution, version, builtin=builtin)
        if name in self._records:
            other = self._records[name]
            self._fail(
                PluginRecord(name, distribution, version, builtin=builtin),
                f"plugin name {name!r} is already used by {other.distribution} {other.version};"
                " uninstall one of the two distributions",
                register=False,
            )
            return
        self._records[name] = record
        self._specs = None
        blocked = self._blocked_reason(record)
        if blocked:
            record.status, record.reason = "blocked", blocked
            return
        try:
            plugin = load()
        except Exception as exc:
            self._fail(record, f"failed to import: {type(exc).__name__}: {exc}")
            return
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self._fail(record, f"invalid hook implementation: {exc}")
            return
        unknown = [h.name for h in self.pm.get_hookcallers(plugin) or () if not h.has_spec()]
        if unknown:
            self.pm.unregister(plugin)
            hints = []
            for hook in unknown:
                close = difflib.get_close_matches(hook, _HOOK_NAMES, n=1)
                hints.append(f"{hook!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            self._fail(record, "implements unknown hook " + ", ".join(hints))

    def _blocked_reason(self, record: PluginRecord) -> str:
        names = {record.name, record.distribution}
        if names & self.deny:
            return "listed in plugins.deny"
        if self.allow is not None and not record.builtin and not names & self.allow:
            return "not listed in plugins.allow"
        return ""

    def _fail(self, record: PluginRecord, reason: str, *, register: bool = True) -> None:
        record.status, record.reason = "failed", reason
        if register:
            self._records[record.name] = record
        logger.error("plugin {} ({}) {}", record.name, record.distribution, reason)
        if self.strict:
            raise PluginLoadError(f"plugin {record.name} from {record.distribution}: {reason}")

    # ------------------------------------------------------------ registry

    def records(self) -> list[PluginRecord]:
        """Every plugin seen, active or not, with what it provides."""
        self._collect()
        return sorted(self._records.values(), key=lambda r: (not r.builtin, r.name))

    def owner(self, kind: str, name: str) -> PluginRecord:
        """The plugin that supplied component ``name`` of ``kind``."""
        self._collect()
        return self._records[self._owners[(kind, name)]]

    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for lifecycle hooks: ``plugins.hook.moltbot_startup(app=app)``."""
        return self.pm.hook

    def channels(self) -> Mapping[str, ChannelSpec]:
        return self._kind("channels")

    def tools(self) -> Mapping[str, ToolSpec]:
        return self._kind("tools")

    def model_providers(self) -> Mapping[str, ModelProviderSpec]:
        return self._kind("model_providers")

    def transports(self) -> Mapping[str, TransportSpec]:
        return self._kind("transports")

    def log_sinks(self) -> Mapping[str, LogSinkSpec]:
        return self._kind("log_sinks")

    def alert_sinks(self) -> Mapping[str, AlertSinkSpec]:
        return self._kind("alert_sinks")

    def cache_backends(self) -> Mapping[str, CacheBackendSpec]:
        return self._kind("cache_backends")

    def commands(self) -> Mapping[str, CommandSpec]:
        return self._kind("commands")

    def gateway_methods(self) -> Mapping[str, MethodSpec]:
        return self._kind("gateway_methods")

    def http_routes(self) -> Mapping[str, RouteSpec]:
        return self._kind("http_routes")

    def services(self) -> Mapping[str, ServiceSpec]:
        return self._kind("services")

    def _kind(self, kind: str) -> Mapping[str, Any]:
        return self._collect()[kind]

    def _collect(self) -> dict[str, dict[str, Any]]:
        """Call each plugin's registration hooks once, attributing and checking every spec."""
        if self._specs is not None:
            return self._specs
        offered: list[tuple[str, str, Any]] = []  # (kind, plugin, spec)
        for record in self._records.values():
            if record.status != "active":
                continue
            plugin = self.pm.get_plugin(record.name)
            try:
                specs = list(self._specs_of(plugin))
            except Exception as exc:
                self.pm.unregister(plugin)
                self._fail(record, f"registration hook raised {type(exc).__name__}: {exc}")
                continue
            offered += [(kind, record.name, spec) for kind, spec in specs]
        claims: dict[tuple[str, str], list[str]] = {}
        for kind, plugin_name, spec in offered:
            claims.setdefault((kind, _key(kind, spec)), []).append(plugin_name)
        for (kind, key), claimants in claims.items():
            if len(claimants) > 1:
                self._conflict(kind, key, [self._records[n] for n in claimants])
        self._specs = {kind: {} for kind in KINDS}
        self._owners = {}
        for kind, plugin_name, spec in offered:
            record = self._records[plugin_name]
            if record.status != "active":
                continue  # in conflict: neither wins, since which one ran would depend on order
            key = _key(kind, spec)
            self._specs[kind][key] = spec
            self._owners[(kind, key)] = plugin_name
            record.provides.setdefault(kind, []).append(key)
        return self._specs

    def _specs_of(self, plugin: object) -> Iterable[tuple[str, Any]]:
        for kind, (hook_name, spec_type) in KINDS.items():
            impl = getattr(plugin, hook_name, None)
            if impl is None:
                continue
            for spec in impl() or ():
                if not isinstance(spec, spec_type):
                    raise TypeError(f"{hook_name} returned {spec!r}, expected {spec_type.__name__}")
                name = _key(kind, spec)
                if kind != "http_routes" and not _NAME_RE.match(name):
                    raise ValueError(f"{spec_type.__name__} name {name!r} must match {_NAME_RE.pattern}")
                yield kind, spec

    def _conflict(self, kind: str, key: str, claimants: list[PluginRecord]) -> None:
        who = " and ".join(f"{r.distribution} ({r.name})" for r in claimants)
        message = (
            f"{kind[:-1].replace('_', ' ')} {key!r} is offered by {who}; uninstall one"
            " or add one of them to plugins.deny"
        )
        for record in claimants:
            record.status, record.reason = "failed", message
            if (plugin := self.pm.get_plugin(record.name)) is not None:
                self.pm.unregister(plugin)
        logger.error("{}", message)
        if self.strict:
            raise PluginConflictError(message)


def _key(kind: str, spec: Any) -> str:
    return spec.path if kind == "http_routes" else spec.name


def _version_of(distribution: str) -> str:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def load_plugins(
    *,
    allow: Iterable[str] | None = None,
    deny: Iterable[str] = (),
    strict: bool = False,
    entrypoints: bool = True,
) -> Plugins:
    """The usual set: built-ins plus every installed entry point (unless ``entrypoints=False``)."""
    plugins = Plugins(allow=allow, deny=deny, strict=strict)
    plugins.load_builtins()
    if entrypoints:
        plugins.load_entrypoints()
    return plugins


def module_plugin(name: str, *impls: Any) -> ModuleType:
    """Wrap inline hookimpl functions in a module object so they can be registered."""
    module = ModuleType(name)
    for impl in impls:
        setattr(module, impl.__name__, impl)
    return module

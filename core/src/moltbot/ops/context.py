"""What checks look at: paths, environment, plugins and the config read defensively.

Checks must work on a broken config too (that is when people run ``doctor``), so the context
keeps the raw file, the problems found while validating it, and an ``effective`` dict: the
validated settings when valid, otherwise the file merged over the defaults.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moltbot.config import Paths, Settings, read_raw, validate
from moltbot.config.load import apply_env_overrides, expand_env
from moltbot.errors import ConfigError
from moltbot.plugins import Plugins

_MISSING = object()


@dataclass
class OpsContext:
    paths: Paths
    env: Mapping[str, str]
    plugins: Plugins | None
    raw: dict[str, Any] = field(default_factory=dict)
    """The config file as written (``${VAR}`` not expanded)."""
    effective: dict[str, Any] = field(default_factory=dict)
    """camelCase dict with defaults filled in and variables expanded."""
    settings: Settings | None = None
    config_problems: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, paths: Paths, env: Mapping[str, str], plugins: Plugins | None) -> OpsContext:
        ctx = cls(paths=paths, env=env, plugins=plugins)
        try:
            ctx.raw = read_raw(paths.config_path)
        except ConfigError as exc:
            ctx.config_problems = list(exc.problems)
            ctx.effective = _defaults()
            return ctx
        expanded, problems = expand_env(ctx.raw, env)
        merged = apply_env_overrides(expanded, env)
        ctx.config_problems = list(problems)
        try:
            ctx.settings = validate(merged, plugins)
        except ConfigError as exc:
            ctx.config_problems += exc.problems
        if ctx.settings is not None and not problems:
            ctx.effective = ctx.settings.model_dump(mode="json", by_alias=True)
        else:
            ctx.effective = _merge(_defaults(), merged)
        return ctx

    def get(self, dotted: str, default: Any = None) -> Any:
        """The effective value at ``a.b.c`` or ``default`` when any part is missing or not a dict."""
        return lookup(self.effective, dotted, default)

    def port(self) -> int:
        """``gateway.port``, or the default when the file's value is unusable."""
        port = self.get("gateway.port", 18789)
        port = int(port) if isinstance(port, str) and port.isdigit() else port
        return port if isinstance(port, int) and 0 < port < 65536 else 18789

    @property
    def state_dir(self) -> Path:
        return self.paths.state_dir

    def workspace(self) -> Path:
        """``agents.defaults.workspace`` over ``agent.workspace`` (seed default ``~/clawd``)."""
        raw = self.get("agents.defaults.workspace") or self.get("agent.workspace") or "~/clawd"
        home = self.env.get("HOME")
        text = str(raw)
        if text.startswith("~") and home:
            text = home + text[1:]
        return Path(text).expanduser()

    def channels(self) -> dict[str, Any]:
        channels = self.get("channels", {})
        return channels if isinstance(channels, dict) else {}


def lookup(data: Any, dotted: str, default: Any = None) -> Any:
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return default
        node = node.get(part, _MISSING)
        if node is _MISSING:
            return default
    return node


def _defaults() -> dict[str, Any]:
    return Settings().model_dump(mode="json", by_alias=True)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out

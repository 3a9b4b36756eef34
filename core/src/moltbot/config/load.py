"""Read, expand and validate the config file; the strictness users rely on lives here."""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import json5
from pydantic import BaseModel, ValidationError

from moltbot.config.accounts import account_path, account_sections
from moltbot.config.errors_format import describe, dotted
from moltbot.config.model import Settings
from moltbot.errors import ConfigError

if TYPE_CHECKING:
    from moltbot.plugins import Plugins

_VAR_RE = re.compile(r"\$(\$?)\{([A-Z_][A-Z0-9_]*)\}")

ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "GATEWAY_PASSWORD": ("gateway", "auth", "password"),
    "GATEWAY_TOKEN": ("gateway", "auth", "token"),
    "GATEWAY_PORT": ("gateway", "port"),
    "GATEWAY_BIND": ("gateway", "bind"),
    "AGENT_MODEL": ("agent", "model"),
}
"""``MOLTBOT_<suffix>`` (or the seed's ``CLAWDBOT_<suffix>``) overrides the key at the path."""


def read_raw(path: Path) -> dict[str, Any]:
    """The file's JSON5 content as a dict; a missing file is an empty config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError([("", f"cannot read the file: {exc.strerror}")], source=str(path)) from exc
    if not text.strip():
        return {}
    try:
        data = json5.loads(text)
    except ValueError as exc:
        raise ConfigError([("", f"not valid JSON5: {exc}")], source=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError([("", "the file must contain one JSON object {...}")], source=str(path))
    return data


def expand_env(data: Any, env: Mapping[str, str], path: str = "") -> tuple[Any, list[tuple[str, str]]]:
    """Replace ``${VAR}`` in every string (``$${VAR}`` stays literal); report missing ones."""
    problems: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, f"{where}.{k}" if where else k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str):

            def sub(match: re.Match[str]) -> str:
                if match[1]:
                    return "${" + match[2] + "}"
                if match[2] not in env:
                    problems.append(
                        (
                            where,
                            f"environment variable {match[2]} is not set"
                            f" (set it, or write $${{{match[2]}}} for a literal)",
                        )
                    )
                    return match[0]
                return env[match[2]]

            return _VAR_RE.sub(sub, value)
        return value

    return walk(data, path), problems


def apply_env_overrides(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Apply ``MOLTBOT_*`` / ``CLAWDBOT_*`` overrides; a password from the environment also
    selects password auth unless the file chose a mode."""
    data = copy.deepcopy(data)
    for suffix, keys in ENV_OVERRIDES.items():
        value = env.get(f"MOLTBOT_{suffix}") or env.get(f"CLAWDBOT_{suffix}")
        if not value:
            continue
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node[keys[-1]] = value
            if suffix == "GATEWAY_PASSWORD":
                node.setdefault("mode", "password")
            if suffix == "GATEWAY_TOKEN":
                node.setdefault("mode", "token")
    return data


def validate(raw: dict[str, Any], plugins: Plugins | None, *, source: str | None = None) -> Settings:
    """Validate the core schema, then each plugin-owned section against its plugin's model."""
    problems: list[tuple[str, str]] = []
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe(exc, Settings), source=source) from None
    if plugins is not None:
        problems += _check_plugin_sections(raw, settings, plugins)
    if problems:
        raise ConfigError(problems, source=source)
    return settings


def _check_plugin_sections(
    raw: dict[str, Any], settings: Settings, plugins: Plugins
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    channels = plugins.channels()
    for name, section in settings.channels.items():
        problems += _check_channel(name, section, channels)
    sinks = plugins.log_sinks()
    for i, entry in enumerate(settings.logging.transports):
        problems += _check_one(
            f"logging.transports[{i}]", entry.type, entry.config, sinks, "log sink", config_key="config"
        )
    alerts = plugins.alert_sinks()
    for i, entry in enumerate(settings.monitoring.alert_sinks):
        problems += _check_one(
            f"monitoring.alertSinks[{i}]", entry.type, entry.config, alerts, "alert sink", config_key="config"
        )
    if "cache" in raw:
        problems += _check_one(
            "cache",
            settings.cache.backend,
            settings.cache.config,
            plugins.cache_backends(),
            "cache backend",
            config_key="config",
            name_key="backend",
        )
    return problems


def _check_one(
    path: str,
    name: str,
    section: Any,
    registry: Mapping[str, Any],
    what: str,
    *,
    config_key: str | None = None,
    name_key: str = "type",
) -> list[tuple[str, str]]:
    if name not in registry:
        where = f"{path}.{name_key}" if config_key else path
        installed = ", ".join(sorted(registry)) or "none"
        hint = ""
        close = difflib.get_close_matches(name, list(registry), n=1)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        return [
            (
                where,
                f"no installed plugin provides the {what} {name!r}{hint} (installed: "
                f"{installed}); install moltbot-{name} or remove this section",
            )
        ]
    model: type[BaseModel] = registry[name].config
    where = f"{path}.{config_key}" if config_key else path
    try:
        model.model_validate(section)
    except ValidationError as exc:
        return describe(exc, model, prefix=where)
    return []


def _check_channel(name: str, section: Any, registry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each account of ``channels.<name>`` is validated merged with the shared keys."""
    sections, problems = account_sections(section)
    found = [(f"channels.{name}.{where}", message) for where, message in problems]
    multi = isinstance(section, dict) and bool(section.get("accounts"))
    for account, merged in sections.items():
        found += _check_one(account_path(name, account, multi=multi), name, merged, registry, "channel")
        if name not in registry:
            break
    return found


def plugin_config(spec: Any, section: Any) -> BaseModel:
    """Build a component's validated config model from its raw section."""
    return spec.config.model_validate(section or {})


def load_settings(path: Path, plugins: Plugins | None, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path``, substitute ``${VAR}``, apply environment overrides and validate."""
    env = os.environ if env is None else env
    raw = read_raw(path)
    expanded, problems = expand_env(raw, env)
    if problems:
        raise ConfigError(problems, source=str(path))
    return validate(apply_env_overrides(expanded, env), plugins, source=str(path))


__all__ = [
    "apply_env_overrides",
    "dotted",
    "expand_env",
    "load_settings",
    "plugin_config",
    "read_raw",
    "validate",
]

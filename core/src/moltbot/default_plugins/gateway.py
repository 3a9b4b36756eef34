"""The built-in gateway plugin: the commands that start or query it and its own RPC methods."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import click

from moltbot import hookimpl
from moltbot.specs import CommandSpec, MethodSpec

_COMMANDS = (
    ("run", "moltbot.cli.run_cmd", "Start the gateway in the foreground"),
    ("gateway", "moltbot.cli.gateway_cmd", "Run the gateway, or call a method on a running one"),
    ("health", "moltbot.cli.client_cmd", "Ask the running gateway whether it is healthy"),
    ("status", "moltbot.cli.client_cmd", "Show what the running gateway is doing"),
    ("logs", "moltbot.cli.client_cmd", "Print the running gateway's log lines"),
)

CONTROL_PLANE_WRITES = (30, 60.0)
"""Config writes allowed per client per minute (OpenClaw's control-plane write limit)."""


def _lazy(module: str, name: str) -> click.Command:
    return getattr(import_module(module), f"{name}_command")


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    for name, module, summary in _COMMANDS:
        yield CommandSpec(name=name, factory=lambda m=module, n=name: _lazy(m, n), summary=summary)


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    from moltbot.gateway import config_methods as cfg
    from moltbot.gateway import methods

    yield MethodSpec(name="health", handler=methods.health, summary="Liveness and subsystem health")
    yield MethodSpec(name="status", handler=methods.status, summary="Process, gateway and service status")
    yield MethodSpec(name="system-presence", handler=methods.system_presence, summary="Gateway and clients")
    yield MethodSpec(
        name="config.get", handler=cfg.config_get, scope="operator.admin", summary="Config, redacted"
    )
    yield MethodSpec(
        name="config.schema", handler=cfg.config_schema, scope="operator.admin", summary="JSON Schema"
    )
    yield MethodSpec(
        name="config.schema.lookup",
        handler=cfg.config_schema_lookup,
        scope="operator.admin",
        params=cfg.SchemaLookupParams,
        summary="The JSON Schema of one config key",
    )
    yield MethodSpec(
        name="config.set",
        handler=cfg.config_set,
        scope="operator.admin",
        params=cfg.ConfigSetParams,
        side_effects=True,
        rate_limit=CONTROL_PLANE_WRITES,
        summary="Replace the config (optional baseHash)",
    )
    yield MethodSpec(
        name="config.apply",
        handler=cfg.config_apply,
        scope="operator.admin",
        params=cfg.ConfigWriteParams,
        side_effects=True,
        rate_limit=CONTROL_PLANE_WRITES,
        summary="Replace the config (baseHash required)",
    )
    yield MethodSpec(
        name="config.patch",
        handler=cfg.config_patch,
        scope="operator.admin",
        params=cfg.ConfigWriteParams,
        side_effects=True,
        rate_limit=CONTROL_PLANE_WRITES,
        summary="JSON merge patch of the config (baseHash required)",
    )

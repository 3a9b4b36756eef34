"""Operator tools as a built-in plugin: the doctor, security, backup, debug and diagnostics
commands, the scheduled backup service, and the ``debug.memory`` gateway method."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any

import click

from moltbot import hookimpl
from moltbot.specs import CommandSpec, MethodSpec, ServiceSpec

_COMMANDS = (
    ("doctor", "moltbot.cli.doctor_cmd", "Check this install and repair what is safe"),
    ("security", "moltbot.cli.security_cmd", "Audit the configuration and the running gateway"),
    ("backup", "moltbot.cli.backup_cmd", "Create, verify, restore and prune backups"),
    ("debug", "moltbot.cli.debug_cmd", "Debugging aids (memory profile)"),
    ("diagnostics", "moltbot.cli.diagnostics_cmd", "Export a redacted bundle for bug reports"),
)


def _lazy(module: str, name: str) -> click.Command:
    return getattr(import_module(module), f"{name}_command")


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    for name, module, summary in _COMMANDS:
        yield CommandSpec(name=name, factory=lambda m=module, n=name: _lazy(m, n), summary=summary)


def _backup_service(app: Any) -> Any:
    from moltbot.ops.backup.service import BackupService

    return BackupService(app)


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name="backup",
        factory=_backup_service,
        summary="Scheduled backups (backup.schedule) with retention pruning",
    )


async def _memory(ctx: Any) -> dict[str, Any]:
    import trio

    from moltbot.ops.memprofile import profile_memory

    return await trio.to_thread.run_sync(profile_memory)


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    yield MethodSpec(
        name="debug.memory",
        handler=_memory,
        scope="operator.admin",
        summary="Memory profile of the gateway process (RSS, gc, top allocations)",
    )

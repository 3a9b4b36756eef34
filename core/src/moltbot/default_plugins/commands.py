"""The built-in ``moltbot`` sub-commands, offered through ``moltbot_register_commands``."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import click

from moltbot import hookimpl
from moltbot.specs import CommandSpec

_COMMANDS = (
    ("plugins", "moltbot.cli.plugins_cmd", "List installed plugins and what they provide"),
    ("config", "moltbot.cli.config_cmd", "Read, change and check the configuration"),
)


def _lazy(module: str, name: str) -> click.Command:
    return getattr(import_module(module), f"{name}_command")


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    for name, module, summary in _COMMANDS:
        yield CommandSpec(name=name, factory=lambda m=module, n=name: _lazy(m, n), summary=summary)

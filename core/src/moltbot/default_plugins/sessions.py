"""Built-in sessions: the ``sessions`` service (stores, index writes) and ``moltbot sessions``."""

from __future__ import annotations

from collections.abc import Iterator

import click

from moltbot import hookimpl
from moltbot.app import App
from moltbot.interfaces.service import Service
from moltbot.specs import CommandSpec, ServiceSpec


def _command() -> click.Command:
    from moltbot.cli.sessions_cmd import sessions_command

    return sessions_command


def _service(app: App) -> Service:
    from moltbot.sessions.service import SessionService

    return SessionService(app)


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="sessions", factory=_command, summary="List and inspect conversation sessions")


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(name="sessions", factory=_service, summary="Session stores and their index writes")

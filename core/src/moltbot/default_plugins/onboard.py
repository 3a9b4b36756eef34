"""The built-in ``moltbot onboard`` command (first-run setup), offered like any plugin command."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from moltbot import hookimpl
from moltbot.specs import CommandSpec

if TYPE_CHECKING:
    import click


def _factory() -> click.Command:
    """Imported lazily so that other commands do not pay for it."""
    from moltbot.cli.onboard_cmd import onboard_command

    return onboard_command


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(
        name="onboard", factory=_factory, summary="Set up model, gateway auth, workspace and channels"
    )

"""Built-in channel runtime: the ``channels`` service, the WebChat channel, RPC methods and CLI
commands."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

import click

from moltbot import hookimpl
from moltbot.app import App
from moltbot.interfaces.service import Service
from moltbot.specs import ChannelSpec, CommandSpec, MethodSpec, ServiceSpec

_COMMANDS = (
    ("channels", "moltbot.cli.channels_cmd", "List configured channels and their status"),
    ("message", "moltbot.cli.message_cmd", "Send a message through a channel of the running gateway"),
    ("pairing", "moltbot.cli.pairing_cmd", "List, approve or reject DM pairing requests"),
)


def _lazy(module: str, name: str) -> click.Command:
    return getattr(import_module(module), f"{name}_command")


def _service(app: App) -> Service:
    from moltbot.channels.service import ChannelsService

    return ChannelsService(app)


@hookimpl
def moltbot_register_channels() -> Iterator[ChannelSpec]:
    from moltbot.channels.webchat import WebChatChannel, WebChatConfig

    yield ChannelSpec(
        name="webchat",
        factory=WebChatChannel,
        config=WebChatConfig,
        default_enabled=True,
        summary="The gateway's own chat (chat.send and chat events; Control UI, OpenClaw clients)",
    )


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    for name, module, summary in _COMMANDS:
        yield CommandSpec(name=name, factory=lambda m=module, n=name: _lazy(m, n), summary=summary)


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name="channels",
        factory=_service,
        after=("agent",),
        summary="Supervised chat channels and routing",
        events=("chat",),
    )


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    from moltbot.channels import rpc

    yield MethodSpec(name="channels.status", handler=rpc.channels_status, summary="Each channel's state")
    yield MethodSpec(
        name="send",
        handler=rpc.send,
        scope="operator.write",
        params=rpc.SendParams,
        side_effects=True,
        summary="Send a message through a channel",
    )
    yield MethodSpec(
        name="pairing.list",
        handler=rpc.pairing_list,
        scope="operator.pairing",
        params=rpc.PairingListParams,
        summary="Pending DM pairing requests",
    )
    yield MethodSpec(
        name="pairing.approve",
        handler=rpc.pairing_approve,
        scope="operator.pairing",
        params=rpc.PairingCodeParams,
        summary="Approve a DM pairing code",
    )
    yield MethodSpec(
        name="pairing.reject",
        handler=rpc.pairing_reject,
        scope="operator.pairing",
        params=rpc.PairingCodeParams,
        summary="Reject a DM pairing code",
    )

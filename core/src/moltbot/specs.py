"""Frozen records that registration hooks return.

A record names a component, says how to build it and which pydantic model validates its config
section. The host collects them through :class:`moltbot.plugins.Plugins`, which remembers which
distribution supplied each one and rejects duplicate names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from moltbot.config.base import NoConfig

if TYPE_CHECKING:
    import click

    from moltbot.app import App
    from moltbot.interfaces import (
        AlertSink,
        CacheBackend,
        ChatChannel,
        LogSink,
        ModelProvider,
        RpcContext,
        Service,
        Tool,
        Transport,
    )


@dataclass(frozen=True, kw_only=True)
class BuildContext:
    """What a factory gets besides its own validated config section."""

    name: str
    """The component's registered name, e.g. ``"telegram"``."""
    state_dir: Path
    """A directory the component may keep files in (created on demand by the component)."""
    settings: Any
    """The whole validated configuration (:class:`moltbot.config.Settings`), read-only."""
    account: str = "default"
    """For channels: the account this object serves (``channels.<name>.accounts.<id>``)."""
    emit: Callable[[str, dict[str, Any]], None] = field(default=lambda event, payload: None)
    """Broadcast a gateway event ``(event, payload)`` to operator clients (a no-op when no
    gateway runs in this process)."""

    @property
    def label(self) -> str:
        """How logs name the component: ``telegram``, or ``telegram (account work)``."""
        return self.name if self.account == "default" else f"{self.name} (account {self.account})"


@dataclass(frozen=True, kw_only=True)
class ComponentSpec:
    """Fields shared by every buildable component."""

    name: str
    """What users write in config; lower-case letters, digits, ``-`` and ``_``."""
    factory: Callable[[Any, BuildContext], Any]
    """Called as ``factory(config, ctx)``; import heavy dependencies inside it."""
    config: type[BaseModel] = NoConfig
    """Validates the component's config section; unknown keys must be rejected."""
    summary: str = ""
    """One line for ``moltbot plugins``."""


@dataclass(frozen=True, kw_only=True)
class ChannelSpec(ComponentSpec):
    """A chat channel (WhatsApp, Telegram, ...); ``factory`` returns a :class:`ChatChannel`."""

    factory: Callable[[Any, BuildContext], ChatChannel]
    default_enabled: bool = False
    """Run even when the config has no ``channels.<name>`` section (the built-in WebChat)."""


@dataclass(frozen=True, kw_only=True)
class ToolSpec(ComponentSpec):
    """An agent tool; ``factory`` returns a :class:`Tool`."""

    factory: Callable[[Any, BuildContext], Tool]


@dataclass(frozen=True, kw_only=True)
class ModelProviderSpec(ComponentSpec):
    """A model provider (``openai``, ``anthropic``); ``factory`` returns a :class:`ModelProvider`."""

    factory: Callable[[Any, BuildContext], ModelProvider]


@dataclass(frozen=True, kw_only=True)
class TransportSpec(ComponentSpec):
    """A way to expose the gateway (e.g. Tailscale); ``factory`` returns a :class:`Transport`."""

    factory: Callable[[Any, BuildContext], Transport]


@dataclass(frozen=True, kw_only=True)
class LogSinkSpec(ComponentSpec):
    """A log destination named by ``logging.transports[].type``; builds a :class:`LogSink`."""

    factory: Callable[[Any, BuildContext], LogSink]


@dataclass(frozen=True, kw_only=True)
class AlertSinkSpec(ComponentSpec):
    """An alert destination for monitoring; ``factory`` returns an :class:`AlertSink`."""

    factory: Callable[[Any, BuildContext], AlertSink]


@dataclass(frozen=True, kw_only=True)
class CacheBackendSpec(ComponentSpec):
    """A second-level cache store named by ``cache.backend``; builds a :class:`CacheBackend`."""

    factory: Callable[[Any, BuildContext], CacheBackend]


@dataclass(frozen=True, kw_only=True)
class CommandSpec:
    """A ``moltbot <name>`` sub-command; ``factory()`` returns a :class:`click.Command`."""

    name: str
    factory: Callable[[], click.Command]
    summary: str = ""


Scope = Literal["operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"]


@dataclass(frozen=True, kw_only=True)
class MethodSpec:
    """A gateway RPC method, callable as a ``req`` frame by clients holding ``scope``."""

    name: str
    """Dotted method name, e.g. ``"channels.status"``."""
    handler: Callable[[RpcContext], Awaitable[Any]]
    """Returns the JSON-serialisable ``payload`` of the ``res`` frame, or raises ``RpcError``."""
    scope: Scope = "operator.read"
    params: type[BaseModel] | None = None
    """When set, ``params`` are validated with it and handed over as ``ctx.params``."""
    side_effects: bool = False
    """Side-effecting methods require an ``idempotencyKey`` and are deduplicated by it."""
    rate_limit: tuple[int, float] | None = None
    """``(n, seconds)``: at most ``n`` calls per ``seconds`` per client (its device id, else its
    IP); further calls get ``RATE_LIMITED`` with ``retryAfterMs``."""
    summary: str = ""


@dataclass(frozen=True, kw_only=True)
class RouteSpec:
    """An HTTP route on the gateway's port (webhooks, APIs); a Starlette-style endpoint."""

    path: str
    handler: Callable[[Any], Awaitable[Any]]
    """``async def handler(request) -> response`` with Starlette's Request and Response; the
    running :class:`moltbot.app.App` is ``request.app.state.moltbot``."""
    methods: tuple[str, ...] = ("GET",)
    auth: Literal["gateway", "none"] = "gateway"
    """``"gateway"`` requires the gateway bearer credential; ``"none"`` means the handler
    authenticates the caller itself (webhook signatures)."""
    summary: str = ""
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", f"{','.join(self.methods)} {self.path}")


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """A long-running subsystem the runtime starts before the gateway serves (metrics sampler,
    monitor, cache evictor, channel supervisor, ...).

    ``factory(app)`` builds a :class:`moltbot.interfaces.Service`; the runtime stores it in
    ``app.services[name]`` and starts its ``run`` with ``nursery.start`` after the services
    named in ``after``.
    """

    name: str
    factory: Callable[[App], Service]
    after: tuple[str, ...] = ()
    summary: str = ""
    events: tuple[str, ...] = ()
    """Gateway events the service broadcasts; listed in ``hello-ok.features.events``."""

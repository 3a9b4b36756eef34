"""Every moltbot hook, and only here.

Registration hooks return (or yield) frozen ``*Spec`` records and do no I/O; lifecycle hooks are
notifications. All hooks are synchronous and cheap: anything asynchronous lives on the objects the
specs build, which the trio runtime drives. Hook arguments are keyword-only at the call site and a
hookimpl may accept any subset of them.

Every hook has a section in ``docs/plugins/hooks.md`` (a test enforces it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from moltbot.app import App
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

hookspec = pluggy.HookspecMarker("moltbot")

# ---------------------------------------------------------------- registration


@hookspec
def moltbot_register_channels() -> Iterable[ChannelSpec]:
    """Offer chat-channel implementations.

    Called once per plugin while plugins load, before the configuration is validated (the specs'
    ``config`` models validate ``channels.<name>``).

    Returns:
        Any number of :class:`moltbot.ChannelSpec`; names must be unique across plugins.

    Example:
        @moltbot.hookimpl
        def moltbot_register_channels():
            from .channel import EchoChannel, EchoConfig
            yield moltbot.ChannelSpec(name="echo", factory=EchoChannel, config=EchoConfig)
    """


@hookspec
def moltbot_register_tools() -> Iterable[ToolSpec]:
    """Offer agent tools.

    Called once per plugin while plugins load. Tool policy later decides per session which of
    them the model may see.

    Returns:
        Any number of :class:`moltbot.ToolSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_tools():
            yield moltbot.ToolSpec(name="exec", factory=ExecTool, config=ExecConfig)
    """


@hookspec
def moltbot_register_model_providers() -> Iterable[ModelProviderSpec]:
    """Offer model providers, referred to as ``<provider>/<model>`` in config.

    Called once per plugin while plugins load.

    Returns:
        Any number of :class:`moltbot.ModelProviderSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_model_providers():
            yield moltbot.ModelProviderSpec(name="openai", factory=OpenAIProvider,
                                            config=OpenAIConfig)
    """


@hookspec
def moltbot_register_transports() -> Iterable[TransportSpec]:
    """Offer transports that expose the gateway (for example over Tailscale).

    Called once per plugin while plugins load.

    Returns:
        Any number of :class:`moltbot.TransportSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_transports():
            yield moltbot.TransportSpec(name="tailscale", factory=TailscaleTransport)
    """


@hookspec
def moltbot_register_log_sinks() -> Iterable[LogSinkSpec]:
    """Offer log sinks, chosen by ``logging.transports[].type``.

    Called once per plugin while plugins load.

    Returns:
        Any number of :class:`moltbot.LogSinkSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_log_sinks():
            yield moltbot.LogSinkSpec(name="file", factory=FileSink, config=FileSinkConfig)
    """


@hookspec
def moltbot_register_alert_sinks() -> Iterable[AlertSinkSpec]:
    """Offer alert sinks for monitoring thresholds.

    Called once per plugin while plugins load.

    Returns:
        Any number of :class:`moltbot.AlertSinkSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_alert_sinks():
            yield moltbot.AlertSinkSpec(name="webhook", factory=WebhookSink,
                                        config=WebhookConfig)
    """


@hookspec
def moltbot_register_cache_backends() -> Iterable[CacheBackendSpec]:
    """Offer second-level cache backends, chosen by ``cache.backend``.

    Called once per plugin while plugins load.

    Returns:
        Any number of :class:`moltbot.CacheBackendSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_cache_backends():
            yield moltbot.CacheBackendSpec(name="redis", factory=RedisBackend,
                                           config=RedisConfig)
    """


@hookspec
def moltbot_register_commands() -> Iterable[CommandSpec]:
    """Offer ``moltbot`` sub-commands.

    Called once per plugin when the CLI starts. Build the click command inside ``factory`` so
    a plugin's imports cost nothing unless its command runs.

    Returns:
        Any number of :class:`moltbot.CommandSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_commands():
            def build():
                @click.command()
                def hello():
                    click.echo("hello")
                return hello
            yield moltbot.CommandSpec(name="hello", factory=build, summary="Say hello")
    """


@hookspec
def moltbot_register_gateway_methods() -> Iterable[MethodSpec]:
    """Offer RPC methods callable over the gateway's WebSocket protocol.

    Called once per plugin when the gateway starts. Method names are unique across plugins and
    the gateway's own methods.

    Returns:
        Any number of :class:`moltbot.MethodSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_gateway_methods():
            async def ping(ctx):
                return {"pong": True}
            yield moltbot.MethodSpec(name="echo.ping", handler=ping, scope="operator.read")
    """


@hookspec
def moltbot_register_http_routes() -> Iterable[RouteSpec]:
    """Offer HTTP routes on the gateway's port, such as channel webhooks.

    Called once per plugin when the gateway starts.

    Returns:
        Any number of :class:`moltbot.RouteSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_http_routes():
            async def webhook(request):
                return JSONResponse({"ok": True})
            yield moltbot.RouteSpec(path="/webhooks/echo", handler=webhook,
                                    methods=("POST",), auth="none")
    """


@hookspec
def moltbot_register_services() -> Iterable[ServiceSpec]:
    """Offer long-running subsystems for the gateway process to run.

    Called once per plugin when the runtime starts. Each service is built with the running
    app, stored in ``app.services[name]``, and started (in ``after`` order) before the gateway
    accepts connections; cancelling it is how it stops.

    Returns:
        Any number of :class:`moltbot.ServiceSpec`.

    Example:
        @moltbot.hookimpl
        def moltbot_register_services():
            yield moltbot.ServiceSpec(name="monitor", factory=Monitor, after=("metrics",))
    """


# ---------------------------------------------------------------- lifecycle


@hookspec
def moltbot_startup(app: App) -> None:
    """Notify plugins that the gateway has started and is serving.

    Called once, after every channel and service reported ready. Do not block: start work in
    your own components' ``run`` methods instead.

    Args:
        app: the running :class:`moltbot.app.App`.

    Example:
        @moltbot.hookimpl
        def moltbot_startup(app):
            logger.info("echo plugin sees {} channels", len(app.plugins.channels()))
    """


@hookspec
def moltbot_shutdown(app: App) -> None:
    """Notify plugins that the gateway is shutting down.

    Called once, after the gateway stopped accepting work and before components are cancelled.

    Args:
        app: the running :class:`moltbot.app.App`.

    Example:
        @moltbot.hookimpl
        def moltbot_shutdown(app):
            logger.info("goodbye")
    """

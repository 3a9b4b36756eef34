"""The gateway process: build the app, start services in ``after`` order, serve, shut down.

``moltbot run`` and ``moltbot gateway`` call :func:`prepare` (config checks, first-start token)
and then :func:`main_async`, which owns the signal handling: the first SIGTERM/SIGINT starts a
graceful shutdown, a second one exits at once.
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import click
import trio
from loguru import logger

from moltbot.app import App
from moltbot.config import Settings, plugin_config, read_raw, write_config
from moltbot.config.store import set_path
from moltbot.errors import ConfigError, MoltbotError, PluginError
from moltbot.gateway.netpolicy import is_loopback
from moltbot.gateway.reload import ConfigReloader
from moltbot.gateway.server import Gateway, bind_host
from moltbot.interfaces.transport import GatewayEndpoint
from moltbot.specs import BuildContext, ServiceSpec

RESERVED_SERVICES = ("gateway", "config-reload")


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that win over the file for this process only (never written)."""

    port: int | None = None
    bind: str | None = None
    auth: str | None = None
    token: str | None = None
    password: str | None = None


def apply_overrides(settings: Settings, o: Overrides) -> Settings:
    data = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    gw = data.setdefault("gateway", {})
    auth = gw.setdefault("auth", {})
    for value, node, key in (
        (o.port or None, gw, "port"),
        (o.bind, gw, "bind"),
        (o.auth, auth, "mode"),
        (o.token, auth, "token"),
        (o.password, auth, "password"),
    ):
        if value is not None:
            node[key] = value
    if o.token is not None and o.auth is None:
        auth["mode"] = "token"
    if o.password is not None and o.auth is None and o.token is None:
        auth["mode"] = "password"
    return Settings.model_validate(data)


def check_auth(settings: Settings, *, source: str | None = None) -> Settings:
    """The rules no config may break, at start or on reload: no unauthenticated non-loopback
    bind, Tailscale Funnel (public internet) only with password auth, and the selected auth
    mode has its secret. Raises ConfigError."""
    host = bind_host(settings)
    auth = settings.gateway.auth
    problems = []
    if auth.mode == "none" and not is_loopback(host):
        problems.append(
            (
                "gateway.auth.mode",
                f"refusing to bind the gateway to {host} without auth; set gateway.auth.mode to"
                " 'token' or 'password' (or bind to loopback)",
            )
        )
    if settings.gateway.tailscale.mode == "funnel" and auth.mode != "password":
        problems.append(
            (
                "gateway.auth.mode",
                f"Tailscale Funnel puts the gateway on the public internet and needs password auth"
                f" (it is {auth.mode!r}); set gateway.auth.mode to 'password' with a strong password,"
                " or set gateway.tailscale.mode to 'serve'",
            )
        )
    if auth.mode == "password" and not auth.password:
        problems.append(("gateway.auth.password", "password auth is selected but no password is set"))
    if auth.mode == "token" and not auth.token:
        problems.append(("gateway.auth.token", "token auth is selected but no token is set"))
    if problems:
        raise ConfigError(problems, source=source)
    return settings


def prepare(app: App, overrides: Overrides, *, echo: Callable[[str], None] = click.echo) -> App:
    """Make sure a credential exists (generating a token on first start), then check the
    auth rules; raises ConfigError (exit 78)."""
    settings = apply_overrides(app.settings, overrides)
    auth = settings.gateway.auth
    if auth.mode == "token" and not auth.token:
        token = secrets.token_urlsafe(32)
        path = app.paths.config_path
        write_config(path, set_path(read_raw(path), "gateway.auth.token", token))
        echo(f"generated a gateway token and stored it in {path} (gateway.auth.token, file mode 0600)")
        settings = apply_overrides(settings, Overrides(token=token))
    app.settings = check_auth(settings, source=str(app.paths.config_path))
    return app


def service_order(specs: Mapping[str, ServiceSpec]) -> list[ServiceSpec]:
    """Services sorted so each starts after those named in its ``after``."""
    ordered: list[ServiceSpec] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise PluginError("services depend on each other in a cycle: " + " -> ".join((*chain, name)))
        spec = specs[name]
        state[name] = "visiting"
        for dep in spec.after:
            if dep not in specs:
                raise PluginError(f"service {name!r} starts after {dep!r}, which no plugin provides")
            visit(dep, (*chain, name))
        state[name] = "done"
        ordered.append(spec)

    for name in sorted(specs):
        if name in RESERVED_SERVICES:
            raise PluginError(f"a plugin registers a service named {name!r}, which the runtime reserves")
        visit(name, ())
    return ordered


async def run_gateway(
    app: App,
    stop: trio.Event,
    *,
    port: int | None = None,
    overrides: Overrides | None = None,
    announce: Callable[[Gateway], None] | None = None,
    task_status: trio.TaskStatus[Gateway] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Start services, the gateway and the config watcher; on ``stop``, shut down gracefully."""
    async with trio.open_nursery() as nursery:
        for spec in service_order(app.plugins.services()):
            service = spec.factory(app)
            app.services[spec.name] = service
            await nursery.start(service.run)
        gateway = Gateway(app, port=port)
        app.services["gateway"] = gateway
        await nursery.start(gateway.run)
        await start_transports(app, gateway, nursery)
        reloader = ConfigReloader(
            app, gateway, adjust=lambda s: check_auth(apply_overrides(s, overrides or Overrides()))
        )
        app.services["config-reload"] = reloader
        await nursery.start(reloader.run)
        app.plugins.hook.moltbot_startup(app=app)
        if announce is not None:
            announce(gateway)
        task_status.started(gateway)
        await stop.wait()
        logger.info("shutting down: draining requests and closing clients")
        await gateway.shutdown()
        app.plugins.hook.moltbot_shutdown(app=app)
        nursery.cancel_scope.cancel()


async def start_transports(app: App, gateway: Gateway, nursery: trio.Nursery) -> None:
    """Build and start every registered transport in front of the bound gateway, stored as
    ``app.services["transport.<name>"]``. Each runs even when its config leaves it off, so it can
    undo what a crashed previous run exposed; a refusal (ConfigError) stops the start."""
    endpoint = GatewayEndpoint(
        host=gateway.host,
        port=gateway.port,
        tls=gateway.tls,
        auth_mode=app.settings.gateway.auth.mode,
    )
    for spec in app.plugins.transports().values():
        ctx = BuildContext(
            name=spec.name,
            state_dir=app.paths.state_dir / "transports" / spec.name,
            settings=app.settings,
        )
        transport = spec.factory(plugin_config(spec, {}), ctx)
        app.services[f"transport.{spec.name}"] = transport
        await nursery.start(transport.run, endpoint)


async def main_async(
    app: App,
    *,
    port: int | None = None,
    overrides: Overrides | None = None,
    announce: Callable[[Gateway], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; a second signal ends the process immediately."""
    stop = trio.Event()
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                async for signum in signals:
                    if stop.is_set():
                        logger.warning("second signal: exiting now")
                        os._exit(128 + signum)
                    logger.info("received {}; stopping gracefully", signal.Signals(signum).name)
                    stop.set()

            nursery.start_soon(watch)
            await run_gateway(app, stop, port=port, overrides=overrides, announce=announce)
            nursery.cancel_scope.cancel()


def announce_to(echo: Callable[[str], None]) -> Callable[[Gateway], None]:
    def announce(gateway: Gateway) -> None:
        for url in gateway.urls:
            echo(f"moltbot gateway listening on {url} (auth: {gateway.auth_mode}, pid {os.getpid()})")
        if gateway.urls:
            http = gateway.urls[0].replace("ws", "http", 1)
            echo(f"Control UI: {http}/")

    return announce


def run_foreground(app: App, overrides: Overrides) -> None:
    """Blocking entry point for the CLI."""
    prepare(app, overrides)
    try:
        trio.run(
            lambda: main_async(
                app, port=overrides.port, overrides=overrides, announce=announce_to(_echo_flush)
            )
        )
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup) and len(leaf.exceptions) == 1:
            leaf = leaf.exceptions[0]
        if isinstance(leaf, MoltbotError):
            raise leaf from None  # the CLI prints these as one line with the right exit code
        raise


def _echo_flush(text: str) -> None:
    click.echo(text)
    click.get_text_stream("stdout").flush()

"""The gateway: hypercorn's trio worker serving WebSocket (protocol v4) and HTTP on one port.

``app.services["gateway"]`` is this object; other subsystems call :meth:`Gateway.broadcast`.
Settings the gateway can take without a restart (auth secret, origins, proxies, limits) are
swapped in by :meth:`Gateway.apply_settings` on hot reload.
"""

from __future__ import annotations

import errno
import os
import platform
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.config import Sockets
from hypercorn.trio import serve
from loguru import logger

from moltbot import __version__
from moltbot.errors import ConfigError, MoltbotError
from moltbot.gateway.announce import Announcer
from moltbot.gateway.auth import AuthLimiter
from moltbot.gateway.connection import Connection
from moltbot.gateway.dispatch import Dispatcher
from moltbot.gateway.http import build_http_app
from moltbot.gateway.netpolicy import ForwardedError, NetPolicy
from moltbot.gateway.protocol import GATEWAY_EVENTS, PROTOCOL_VERSION, event_head

if TYPE_CHECKING:
    from moltbot.app import App
    from moltbot.config.model import Settings


@dataclass(frozen=True)
class Limits:
    max_connections: int
    connection_timeout: float
    request_timeout: float
    rate_limited: bool
    rate_per_second: float
    burst: int
    max_payload: int
    max_buffered_bytes: int
    tick_interval: float
    shutdown_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        perf = settings.performance.gateway
        return cls(
            max_connections=perf.max_connections,
            connection_timeout=perf.connection_timeout / 1000,
            request_timeout=perf.request_timeout / 1000,
            rate_limited=perf.rate_limiting.enabled,
            rate_per_second=perf.rate_limiting.requests_per_minute / 60,
            burst=perf.rate_limiting.burst_size,
            max_payload=perf.max_payload,
            max_buffered_bytes=perf.max_buffered_bytes,
            tick_interval=perf.tick_interval / 1000,
            shutdown_timeout=perf.shutdown_timeout / 1000,
        )


def bind_host(settings: Settings) -> str:
    gw = settings.gateway
    if gw.bind == "loopback":
        return "127.0.0.1"
    if gw.bind == "lan":
        return "0.0.0.0"
    if not gw.custom_bind_host:
        raise ConfigError([("gateway.customBindHost", "required when gateway.bind is 'custom'")])
    return gw.custom_bind_host


def auth_secret(settings: Settings) -> str | None:
    auth = settings.gateway.auth
    return auth.token if auth.mode == "token" else auth.password if auth.mode == "password" else None


class Gateway:
    """Owns the listener, the connected clients and the method registry."""

    def __init__(self, app: App, *, port: int | None = None) -> None:
        self.app = app
        self.started_at = time.monotonic()
        self.instance_id = str(uuid.uuid4())
        self.connections: dict[str, Connection] = {}
        self.sockets = 0
        """Open WebSockets, authenticated or not (``maxConnections`` counts these)."""
        self.draining = False
        self.limiter = AuthLimiter()
        self.port = app.settings.gateway.port if port is None else port
        self.host = bind_host(app.settings)
        self.tls = app.settings.gateway.ssl.enabled
        self.urls: list[str] = []
        self.apply_settings(app.settings)
        methods = app.plugins.gateway_methods()
        self.dispatcher = Dispatcher(app, methods, request_timeout=self.limits.request_timeout)
        self.method_names = sorted(methods)
        emitted = {e for spec in app.plugins.services().values() for e in spec.events}
        self.event_names = [*GATEWAY_EVENTS, *sorted(emitted - set(GATEWAY_EVENTS))]
        """``hello-ok.features.events``: the gateway's own events, then those services declare."""
        self.announcer = Announcer(self.broadcast, self.presence, self._health)
        self.health_cache: tuple[float, dict[str, Any]] | None = None
        """``(expires, payload)`` of the last ``health`` snapshot (see ``methods.HEALTH_TTL``)."""
        self.config_lock = trio.Lock()
        """Serializes config writes made through the protocol."""
        self._stopped = trio.Event()
        self._stop_serving = trio.Event()
        self.asgi = _Asgi(self, build_http_app(self))

    # ------------------------------------------------------------ settings

    def apply_settings(self, settings: Settings) -> None:
        """Take the parts of ``settings`` that apply without a restart."""
        self.auth_mode = settings.gateway.auth.mode
        self.secret = auth_secret(settings)
        self.limits = Limits.from_settings(settings)
        self.policy = NetPolicy.build(
            port=self.port,
            tls=self.tls,
            trusted=settings.gateway.trusted_proxies,
            allowed_origins=settings.gateway.control_ui.allowed_origins,
        )
        if hasattr(self, "dispatcher"):
            self.dispatcher.request_timeout = self.limits.request_timeout

    # ------------------------------------------------------------ clients

    def attach(self, conn: Connection) -> None:
        self.connections[conn.conn_id] = conn
        self.app.metrics.set("gateway.connections", len(self.connections))
        self.announcer.presence_changed()

    def detach(self, conn: Connection) -> None:
        if self.connections.pop(conn.conn_id, None) is not None:
            self.app.metrics.set("gateway.connections", len(self.connections))
            self.announcer.presence_changed()

    def _health(self) -> dict[str, Any]:
        from moltbot.gateway.methods import health_payload

        return health_payload(self.app)

    def broadcast(self, event: str, payload: dict[str, Any], *, scope: str | None = "operator.read") -> int:
        """Queue ``event`` for every authenticated client holding ``scope`` (``None``: all) and
        return how many that was. Sync and non-blocking; a client whose queue overflows is
        closed as a slow consumer."""
        reached = 0
        head: str | None = None
        for conn in list(self.connections.values()):
            if conn.allows(scope):
                head = head or event_head(event, payload)
                conn.send_head(head)
                reached += 1
        return reached

    def presence(self) -> list[dict[str, Any]]:
        now = int(time.time() * 1000)
        host = platform.node()
        entries = [
            {
                "host": host,
                "ip": self.host,
                "version": __version__,
                "platform": f"{platform.system().lower()} {platform.release()}",
                "deviceFamily": platform.system(),
                "mode": "gateway",
                "reason": "self",
                "instanceId": self.instance_id,
                "text": f"Gateway: {host} ({self.host}) · app {__version__} · mode gateway · reason self",
                "ts": now,
            }
        ]
        for conn in self.connections.values():
            info = conn.summary
            if info is None:
                continue
            entries.append(
                {
                    "ip": info.ip,
                    "version": info.client.get("version", ""),
                    "platform": info.client.get("platform", ""),
                    "mode": info.client.get("mode", ""),
                    "reason": "connect",
                    "instanceId": info.device_id or conn.conn_id,
                    "roles": [info.role],
                    "scopes": info.scopes,
                    "text": f"Client: {info.client.get('id', 'unknown')} ({info.ip}) · {info.role}",
                    "ts": int(info.connected_at * 1000),
                }
            )
        return entries

    def uptime_ms(self) -> int:
        return int((time.monotonic() - self.started_at) * 1000)

    def hello_payload(self, conn: Connection) -> dict[str, Any]:
        return {
            "type": "hello-ok",
            "protocol": PROTOCOL_VERSION,
            "server": {"version": __version__, "connId": conn.conn_id},
            "features": {"methods": self.method_names, "events": self.event_names},
            "snapshot": {
                "presence": self.presence(),
                "health": self._health(),
                "stateVersion": self.announcer.state_version(),
                "uptimeMs": self.uptime_ms(),
                "configPath": str(self.app.paths.config_path),
                "stateDir": str(self.app.paths.state_dir),
                "authMode": self.auth_mode,
            },
            "auth": {"role": conn.role, "scopes": sorted(conn.scopes)},
            "policy": {
                "maxPayload": self.limits.max_payload,
                "maxBufferedBytes": self.limits.max_buffered_bytes,
                "tickIntervalMs": int(self.limits.tick_interval * 1000),
            },
        }

    def status(self) -> dict[str, Any]:
        return {
            "state": "draining" if self.draining else "serving",
            "urls": self.urls,
            "bind": self.host,
            "port": self.port,
            "tls": self.tls,
            "authMode": self.auth_mode,
            "connections": len(self.connections),
            "inFlight": self.dispatcher.in_flight,
            "uptimeMs": self.uptime_ms(),
        }

    # ------------------------------------------------------------ lifecycle

    def _hypercorn_config(self) -> _Config:
        config = _Config()
        host = f"[{self.host}]" if ":" in self.host else self.host
        config.bind = [f"{host}:{self.port}"]
        config.accesslog = None
        config.errorlog = None
        config.websocket_max_message_size = self.limits.max_payload
        config.graceful_timeout = 1.0
        config.ssl_handshake_timeout = self.limits.connection_timeout
        config.keep_alive_timeout = 30.0
        config.h2_max_concurrent_streams = 100
        ssl = self.app.settings.gateway.ssl
        if ssl.enabled:
            if not (ssl.cert_path and ssl.key_path):
                raise ConfigError([("gateway.ssl", "enabled needs certPath and keyPath")])
            config.certfile = os.path.expanduser(ssl.cert_path)
            config.keyfile = os.path.expanduser(ssl.key_path)
        return config

    async def run(self, *, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen, report the bound URLs through ``task_status``, serve until cancelled or
        :meth:`shutdown`."""
        config = self._hypercorn_config()
        try:
            async with trio.open_nursery() as nursery:
                binds = await nursery.start(self._serve, config)
                self.urls = [b.replace("http", "ws", 1) for b in binds]
                if self.port == 0 and binds:
                    self.port = int(binds[0].rsplit(":", 1)[1])
                    self.apply_settings(self.app.settings)
                nursery.start_soon(self._ticker)
                await nursery.start(self.announcer.run)
                task_status.started(self.urls)
                try:
                    await self._stop_serving.wait()
                finally:
                    self._abort_clients()
                nursery.cancel_scope.cancel()
        finally:
            self._stopped.set()

    def _abort_clients(self) -> None:
        """Abort whoever is still connected as serving ends (cancelled, or after the drain).
        A client that stopped reading pins a shielded socket write in hypercorn, which would
        keep the server, and the process, from ever stopping."""
        for conn in list(self.connections.values()):
            conn.close(1001, "gateway shutting down", flush=False)

    async def _serve(self, config: _Config, *, task_status: trio.TaskStatus[list[str]]) -> None:
        try:
            config.create_sockets()
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            raise MoltbotError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}"
                + (
                    " (a gateway or another program is already listening there; stop it or pick"
                    " another port with --port)"
                    if busy
                    else ""
                )
            ) from None
        try:
            await serve(self.asgi, config, task_status=task_status, mode="asgi")
        finally:
            config.close_sockets()

    async def _ticker(self) -> None:
        while True:
            await trio.sleep(self.limits.tick_interval)
            self.broadcast("tick", {"ts": int(time.time() * 1000)}, scope=None)

    async def shutdown(self, reason: str = "gateway stopping") -> None:
        """Stop accepting, announce ``shutdown``, drain in-flight requests up to the deadline,
        close every client with 1001 and stop the listener."""
        self.draining = True
        self.broadcast("shutdown", {"reason": reason, "restartExpectedMs": None}, scope=None)
        with trio.move_on_after(self.limits.shutdown_timeout):
            await self.dispatcher.idle.wait()
        for conn in list(self.connections.values()):
            conn.close(1001, "gateway shutting down")
        with trio.move_on_after(2):
            while self.connections:
                await trio.sleep(0.01)
        self._stop_serving.set()
        await self._stopped.wait()


class _Config(HypercornConfig):
    """Remembers the listening sockets so they are closed when serving stops (hypercorn
    leaves that to the garbage collector)."""

    _created: Sockets | None = None

    def create_sockets(self) -> Sockets:
        if self._created is None:
            self._created = super().create_sockets()
        return self._created

    def close_sockets(self) -> None:
        if self._created is not None:
            for sock in (*self._created.secure_sockets, *self._created.insecure_sockets):
                sock.close()


class _Asgi:
    """Routes WebSocket scopes to the protocol handler and everything else to Starlette."""

    def __init__(self, gateway: Gateway, http: Callable[..., Awaitable[None]]) -> None:
        self.gateway = gateway
        self.http = http

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.http(scope, receive, send)
            return
        gw = self.gateway
        if (await receive())["type"] != "websocket.connect":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        peer_addr = scope.get("client")
        peer = (peer_addr or ("", 0))[0]
        origin = headers.get("origin")
        try:
            ip = gw.policy.client_ip(peer, headers)
        except ForwardedError as exc:
            await _deny(send, 400, str(exc))
            return
        if not gw.policy.origin_allowed(origin):
            logger.warning("refused WebSocket from {} with Origin {!r} (not allowed)", ip, origin)
            await _deny(send, 403, "origin not allowed")
            return
        if gw.draining:
            await _deny(send, 503, "gateway is shutting down")
            return
        if gw.sockets >= gw.limits.max_connections:
            await _deny(send, 503, "too many connections")
            return
        gw.sockets += 1
        try:
            await send({"type": "websocket.accept"})
            await Connection(
                gw,
                send,
                receive,
                ip,
                origin,
                sockname=_address(scope.get("server")),
                peername=_address(peer_addr),
            ).run()
        finally:
            gw.sockets -= 1


def _address(value: Any) -> tuple[str, int] | None:
    return (str(value[0]), int(value[1])) if value else None


async def _deny(send: Any, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})

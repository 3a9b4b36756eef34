"""The HTTP side of the gateway port: probes, a placeholder page, and plugin routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from moltbot import __version__
from moltbot.gateway.auth import secrets_equal
from moltbot.gateway.netpolicy import ForwardedError, is_loopback
from moltbot.specs import RouteSpec

if TYPE_CHECKING:
    from moltbot.gateway.server import Gateway

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>moltbot gateway</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}}
code{{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}}</style></head>
<body><h1>moltbot gateway {version}</h1>
<p>The gateway is running. The Control UI is not installed yet; talk to the gateway with
<code>moltbot status</code>, <code>moltbot health</code> or
<code>moltbot gateway call &lt;method&gt;</code>.</p>
<p>WebSocket clients connect to this same address (protocol v4).</p></body></html>
"""


def service_statuses(app: Any) -> dict[str, dict[str, Any]]:
    """``status()`` of every running service that offers one (the gateway's own excluded)."""
    out: dict[str, dict[str, Any]] = {}
    for name, service in app.services.items():
        status = getattr(service, "status", None)
        if name == "gateway" or not callable(status):
            continue
        try:
            out[name] = dict(status())
        except Exception as exc:
            out[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return out


def build_http_app(gateway: Gateway) -> Starlette:
    async def live(request: Request) -> Response:
        return JSONResponse({"ok": True, "status": "live"})

    async def ready(request: Request) -> Response:
        services = service_statuses(gateway.app)
        failing = sorted(n for n, s in services.items() if s.get("ok") is False)
        ok = not gateway.draining and not failing
        body: dict[str, Any] = {
            "ok": ok,
            "status": "ready" if ok else "draining" if gateway.draining else "degraded",
        }
        if request.client is not None and is_loopback(request.client.host):
            body["services"] = services
            body["failing"] = failing
        return JSONResponse(body, status_code=200 if ok else 503)

    async def index(request: Request) -> Response:
        return HTMLResponse(_PAGE.format(version=__version__))

    routes = [
        Route("/health", live),
        Route("/healthz", live),
        Route("/ready", ready),
        Route("/readyz", ready),
        Route("/", index),
    ]
    for spec in gateway.app.plugins.http_routes().values():
        handler = spec.handler if spec.auth == "none" else _guarded(gateway, spec)
        routes.append(Route(spec.path, handler, methods=list(spec.methods)))
    starlette = Starlette(routes=routes)
    starlette.state.moltbot = gateway.app  # how plugin routes reach the running App
    return starlette


def _guarded(gateway: Gateway, spec: RouteSpec) -> Callable[[Request], Awaitable[Any]]:
    """Require ``Authorization: Bearer <gateway token or password>``; never a query token."""

    async def handler(request: Request) -> Any:
        peer = request.client.host if request.client else ""
        try:
            ip = gateway.policy.client_ip(peer, request.headers)
        except ForwardedError as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
        wait = gateway.limiter.retry_after(ip)
        if wait > 0:
            return JSONResponse(
                {"ok": False, "error": "too many failed authentication attempts"},
                status_code=429,
                headers={"Retry-After": str(int(wait) + 1)},
            )
        if gateway.auth_mode != "none":
            header = request.headers.get("authorization", "")
            scheme, _, given = header.partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)
            if gateway.secret is None or not secrets_equal(given.strip(), gateway.secret):
                gateway.limiter.failure(ip)
                return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)
            gateway.limiter.success(ip)
        return await spec.handler(request)

    return handler

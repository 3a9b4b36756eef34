"""The HTTP side of the gateway port: probes, the WebChat page, and plugin routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.gateway import webchat_ui
from moltbot.gateway.auth import secrets_equal
from moltbot.gateway.netpolicy import ForwardedError, is_loopback
from moltbot.specs import RouteSpec

if TYPE_CHECKING:
    from moltbot.gateway.server import Gateway


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

    routes = [
        Route("/health", live),
        Route("/healthz", live),
        Route("/ready", ready),
        Route("/readyz", ready),
        *webchat_ui.routes(lambda: gateway.app.settings.gateway.control_ui.enabled),
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

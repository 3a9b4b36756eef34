"""The gateway's metrics endpoints and the ``metrics.get`` RPC handler."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from moltbot.interfaces.rpc import RpcContext, RpcError
from moltbot.metrics.prometheus import CONTENT_TYPE, exposition


def _service(app: Any) -> Any:
    service = app.services.get("metrics")
    if service is None:
        raise RpcError("UNAVAILABLE", "the metrics service is not running in this gateway")
    return service


async def metrics_get(ctx: RpcContext) -> dict[str, Any]:
    """The seed's ``Metrics`` shape (plus ``process``), from the latest sample."""
    return _service(ctx.app).snapshot()


def _app_of(request: Request) -> Any:
    """The gateway stores the running App as ``state.moltbot`` on its Starlette app."""
    return getattr(request.app.state, "moltbot", None)


async def prometheus_route(request: Request) -> Response:
    """``GET /metrics``: Prometheus text of the registry plus the system gauges."""
    app = _app_of(request)
    if app is None:
        return Response("moltbot app not attached to this server\n", status_code=503)
    service = app.services.get("metrics")
    body = exposition(app.metrics, service.snapshot if service else None)
    return Response(body, media_type=CONTENT_TYPE)


async def json_route(request: Request) -> Response:
    """``GET /api/metrics``: the ``Metrics`` JSON, for ``moltbot metrics`` and dashboards."""
    app = _app_of(request)
    service = app.services.get("metrics") if app is not None else None
    if service is None:
        return JSONResponse({"error": "the metrics service is not running"}, status_code=503)
    return JSONResponse(service.snapshot())

"""Probe a running gateway's liveness endpoint (``GET /healthz``) over HTTP."""

from __future__ import annotations

from typing import Any

import httpx


def probe_url(settings: Any) -> str:
    """The ``/healthz`` URL of the gateway configured by ``settings`` (a :class:`Settings`)."""
    gateway = settings.gateway
    host = "127.0.0.1"
    if gateway.bind == "custom" and gateway.custom_bind_host not in (None, "", "0.0.0.0", "::"):
        host = gateway.custom_bind_host
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if gateway.ssl.enabled else "http"
    return f"{scheme}://{host}:{gateway.port}/healthz"


def probe(url: str, *, timeout: float = 3.0) -> dict[str, Any]:
    """``{"url", "ok", "status"?, "error"?}``; never raises for network trouble."""
    try:
        response = httpx.get(url, timeout=timeout, verify=False)
    except httpx.HTTPError as exc:
        return {"url": url, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"url": url, "ok": response.status_code == 200, "status": response.status_code}

"""The WebChat page served at ``/``: static HTML, JS and CSS from ``static/``, under a strict CSP.

The page talks to the gateway over the same port's WebSocket (protocol v4, ``chat.*``); it has
no inline script or style and loads nothing from elsewhere, so the Content-Security-Policy can
forbid everything but the page's own files and a WebSocket to its own host.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PREFIX = "/webchat/"
"""Where the page's JS and CSS are served."""

_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "webchat.js": "text/javascript; charset=utf-8",
    "webchat.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
"""A ``Host`` header that may be written into the CSP (no spaces, quotes or semicolons)."""

DISABLED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>moltbot gateway</title></head>
<body><h1>moltbot gateway</h1>
<p>The Control UI is disabled (<code>gateway.controlUi.enabled: false</code>). WebSocket clients
and <code>moltbot gateway call &lt;method&gt;</code> still work.</p></body></html>
"""


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _load() -> dict[str, Asset]:
    static = files(__package__) / "static"
    assets = {}
    for name, media_type in _TYPES.items():
        body = (static / name).read_bytes()
        assets[name] = Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return assets


def content_security_policy(host: str | None) -> str:
    """Only this origin's files; WebSockets only to the host the page was loaded from (``'self'``
    covers ws/wss in CSP level 3 browsers; the explicit ``ws://host`` is for older ones)."""
    sockets = "'self'"
    if host and _HOST.fullmatch(host):
        sockets += f" ws://{host} wss://{host}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {sockets}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def security_headers(host: str | None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(host),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cache-Control": "no-cache",
    }


def routes(enabled: Callable[[], bool]) -> list[Route]:
    """``/`` (the page, or a note that it is disabled) and ``/webchat/<file>`` while enabled;
    ``enabled()`` is asked per request, so ``gateway.controlUi.enabled`` follows hot reload."""
    assets = _load()

    def respond(request: Request, name: str) -> Response:
        asset = assets[name]
        headers = security_headers(request.headers.get("host"))
        headers["ETag"] = asset.etag
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    async def index(request: Request) -> Response:
        if not enabled():
            headers = security_headers(request.headers.get("host"))
            return Response(DISABLED_PAGE, media_type=_TYPES["index.html"], headers=headers)
        return respond(request, "index.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if not enabled() or name not in assets or name == "index.html":
            return Response("not found", status_code=404, media_type="text/plain")
        return respond(request, name)

    return [Route("/", index), Route(PREFIX + "{name}", asset)]

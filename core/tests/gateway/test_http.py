"""HTTP on the gateway port: probes, the placeholder page, plugin routes and their auth."""

from __future__ import annotations

import httpx
from starlette.responses import JSONResponse

from moltbot import RouteSpec, hookimpl
from moltbot.plugins import load_plugins, module_plugin

from .conftest import TOKEN, running


def _plugins():
    async def private(request):
        return JSONResponse({"private": True})

    async def webhook(request):
        return JSONResponse({"hook": (await request.body()).decode()})

    @hookimpl
    def moltbot_register_http_routes():
        yield RouteSpec(path="/api/private", handler=private)
        yield RouteSpec(path="/hooks/test", handler=webhook, methods=("POST",), auth="none")

    plugins = load_plugins(entrypoints=False)
    plugins.register(module_plugin("testroutes", moltbot_register_http_routes), name="test-routes")
    return plugins


async def test_probes_and_the_page(make_app):
    async with (
        running(make_app()) as gw,
        httpx.AsyncClient(base_url=gw.urls[0].replace("ws", "http")) as http,
    ):
        for path in ("/health", "/healthz"):
            response = await http.get(path)
            assert response.json() == {"ok": True, "status": "live"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        page = await http.get("/")
        assert "moltbot gateway" in page.text
        gw.draining = True
        assert (await http.get("/readyz")).status_code == 503


async def test_plugin_routes_need_the_bearer_unless_auth_none(make_app):
    app = make_app(plugins=_plugins())
    async with running(app) as gw, httpx.AsyncClient(base_url=gw.urls[0].replace("ws", "http")) as http:
        assert (await http.get("/api/private")).status_code == 401
        assert (await http.get("/api/private", params={"token": TOKEN})).status_code == 401
        bad = await http.get("/api/private", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        good = await http.get("/api/private", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.json() == {"private": True}
        hook = await http.post("/hooks/test", content=b"ping")
        assert hook.json() == {"hook": "ping"}

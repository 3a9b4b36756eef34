"""The page's HTTP side without a browser: security headers, assets, the disabled page."""

from __future__ import annotations

import httpx

from moltbot.gateway.webchat_ui import content_security_policy

from .conftest import gateway_config, http_url, serving

PAGE_FILES = ("/", "/webchat/webchat.js", "/webchat/webchat.css")


async def test_page_and_assets_carry_a_strict_csp_and_frame_headers(make_app, fake):
    async with (
        serving(make_app(gateway_config(fake))) as gateway,
        httpx.AsyncClient(base_url=http_url(gateway)) as http,
    ):
        host = http_url(gateway).removeprefix("http://")
        for path in PAGE_FILES:
            response = await http.get(path)
            assert response.status_code == 200, path
            csp = response.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["default-src"] == "'none'"
            assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
            assert directives["connect-src"] == f"'self' ws://{host} wss://{host}"
            assert directives["frame-ancestors"] == "'none'"
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert response.headers["x-content-type-options"] == "nosniff"
        page = await http.get("/")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
        assert '<script src="/webchat/webchat.js" defer></script>' in page.text
        js = await http.get("/webchat/webchat.js")
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        again = await http.get("/webchat/webchat.js", headers={"If-None-Match": js.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert (await http.get("/webchat/index.html")).status_code == 404
        assert (await http.get("/webchat/../pyproject.toml")).status_code == 404


async def test_a_hostile_host_header_stays_out_of_the_policy(make_app, fake):
    async with (
        serving(make_app(gateway_config(fake))) as gateway,
        httpx.AsyncClient(base_url=http_url(gateway)) as http,
    ):
        response = await http.get("/", headers={"Host": "evil; script-src *"})
        assert "connect-src 'self';" in response.headers["content-security-policy"]
    assert "evil" not in content_security_policy("a.example:1 'unsafe-inline'")
    assert "ws://[::1]:18789 " in content_security_policy("[::1]:18789")


async def test_disabled_control_ui_serves_a_short_note_and_no_assets(make_app, fake):
    config = gateway_config(fake, controlUi={"enabled": False})
    async with serving(make_app(config)) as gateway, httpx.AsyncClient(base_url=http_url(gateway)) as http:
        page = await http.get("/")
        assert page.status_code == 200 and "gateway.controlUi.enabled: false" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert (await http.get("/webchat/webchat.js")).status_code == 404
        app = gateway.app
        ui = app.settings.gateway.control_ui.model_copy(update={"enabled": True})
        gw = app.settings.gateway.model_copy(update={"control_ui": ui})
        app.settings = app.settings.model_copy(update={"gateway": gw})  # what a hot reload does
        assert (await http.get("/webchat/webchat.js")).status_code == 200
        assert "controlUi.enabled: false" not in (await http.get("/")).text

"""The runtime: service order, lifecycle hooks, startup checks."""

from __future__ import annotations

import json

import pytest
import trio

from moltbot import Service, ServiceSpec, hookimpl
from moltbot.errors import ConfigError, PluginError
from moltbot.plugins import load_plugins, module_plugin
from moltbot.runtime import Overrides, prepare, run_gateway, service_order

from .conftest import base_config


def _spec(name: str, *after: str) -> ServiceSpec:
    return ServiceSpec(name=name, factory=lambda app: None, after=after)  # type: ignore[arg-type, return-value]


def test_services_start_after_their_dependencies():
    specs = {s.name: s for s in (_spec("monitor", "metrics"), _spec("metrics"), _spec("cache", "metrics"))}
    assert [s.name for s in service_order(specs)] == ["metrics", "cache", "monitor"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([_spec("a", "b"), _spec("b", "a")], "cycle"),
        ([_spec("a", "missing")], "no plugin provides"),
        ([_spec("gateway")], "reserves"),
    ],
)
def test_bad_service_graphs_are_plugin_errors(specs, message):
    with pytest.raises(PluginError, match=message):
        service_order({s.name: s for s in specs})


async def test_run_gateway_starts_services_then_gateway_and_calls_hooks(make_app):
    events: list[str] = []

    class Recorder(Service):
        def __init__(self, app):
            self.app = app

        async def run(self, *, task_status=trio.TASK_STATUS_IGNORED):
            events.append(f"service started, gateway running: {'gateway' in self.app.services}")
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                events.append("service cancelled")

        def status(self):
            return {"ok": True}

    @hookimpl
    def moltbot_register_services():
        yield ServiceSpec(name="recorder", factory=Recorder)

    @hookimpl
    def moltbot_startup(app):
        events.append("startup")

    @hookimpl
    def moltbot_shutdown(app):
        events.append("shutdown")

    plugins = load_plugins(entrypoints=False)
    plugins.register(
        module_plugin("rec", moltbot_register_services, moltbot_startup, moltbot_shutdown), name="recorder"
    )
    app = make_app(plugins=plugins)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        assert app.services["gateway"] is gateway and "config-reload" in app.services
        assert events[-1] == "startup"
        assert "service started, gateway running: False" in events
        stop.set()
    assert events[-2:] == ["shutdown", "service cancelled"]


def test_prepare_refuses_password_mode_without_password(make_app):
    app = make_app(base_config())
    with pytest.raises(ConfigError, match="no password is set"):
        prepare(app, Overrides(auth="password"))


def test_prepare_generates_and_stores_a_token(make_app):
    app = make_app({})
    lines: list[str] = []
    prepare(app, Overrides(), echo=lines.append)
    token = app.settings.gateway.auth.token
    assert token and len(token) >= 43
    assert "generated a gateway token" in lines[0]
    assert token in app.paths.config_path.read_text()


async def test_command_line_overrides_survive_a_hot_reload(make_app):
    app = make_app(base_config())
    overrides = Overrides(token="from-the-command-line-" + "q" * 30)
    prepare(app, overrides)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, overrides=overrides, task_status=task_status)
        )
        app.paths.config_path.write_text('{"gateway": {"auth": {"token": "file-token-' + "w" * 30 + '"}}}')
        outcome = await app.services["config-reload"].check(force=True)
        assert outcome["ok"] and outcome["changed"] == []
        assert gateway.secret == overrides.token
        stop.set()


async def test_a_reload_may_not_drop_auth_on_a_lan_bind(make_app):
    app = make_app(base_config(bind="lan"))
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        app.paths.config_path.write_text('{"gateway": {"bind": "lan", "auth": {"mode": "none"}}}')
        outcome = await app.services["config-reload"].check(force=True)
        assert outcome["ok"] is False and "refusing to bind" in outcome["error"]
        assert gateway.auth_mode == "token"
        stop.set()


async def test_a_reload_may_not_leave_funnel_without_password_auth(make_app):
    password = {"mode": "password", "password": "correct horse battery staple 42"}
    app = make_app(base_config(auth=password))
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        funnel_with_token = {"tailscale": {"mode": "funnel"}, "auth": {"mode": "token", "token": "t" * 40}}
        app.paths.config_path.write_text(json.dumps({"gateway": funnel_with_token}))
        outcome = await app.services["config-reload"].check(force=True)
        assert outcome["ok"] is False and "Tailscale Funnel" in outcome["error"]
        assert gateway.auth_mode == "password"
        stop.set()


def test_funnel_without_password_is_refused_at_start(make_app):
    app = make_app(base_config(tailscale={"mode": "funnel"}))
    with pytest.raises(ConfigError, match="needs password auth"):
        prepare(app, Overrides())

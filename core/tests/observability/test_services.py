"""The built-in plugin's services, started from the registry the way the runtime starts them."""

import trio
from loguru import logger

from moltbot.system import PsutilProbe


async def test_registry_services_run_together_and_report_status(make_app, autojump_clock) -> None:
    app = make_app({"monitoring": {"sampleInterval": 1000, "thresholds": {"checkInterval": 2000}}})
    specs = app.plugins.services()
    assert specs["monitor"].after == ("metrics",)
    async with trio.open_nursery() as nursery:
        for name in ("logs", "metrics", "monitor"):
            app.services[name] = specs[name].factory(app)
            await nursery.start(app.services[name].run)
        assert isinstance(app.services["metrics"].sampler.probe, PsutilProbe)
        logger.bind(subsystem="test").info("services are up")
        app.metrics.inc("gateway.requests", 10, method="health")
        await trio.sleep(5)
        status = {name: app.services[name].status() for name in ("logs", "metrics", "monitor")}
        tail = app.services["logs"].handle.ring.tail()
        nursery.cancel_scope.cancel()
    assert status["metrics"]["samples"] >= 5
    assert status["monitor"]["checks"] == 2 and status["monitor"]["sinks"] == ["log"]
    assert "console" in status["logs"]["sinks"]
    assert any("services are up" in line for line in tail["lines"])

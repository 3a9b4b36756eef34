"""Metrics: real values move under load; Prometheus text parses; RPC and HTTP expose them."""

import subprocess
import sys
import time

import httpx
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from moltbot.metrics.http import json_route, metrics_get, prometheus_route
from moltbot.metrics.prometheus import exposition
from moltbot.metrics.registry import MetricsRegistry
from moltbot.metrics.sampler import MetricsSampler
from moltbot.metrics.service import MetricsService
from moltbot.system import PsutilProbe

BURN = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass\n"


def test_cpu_burned_in_a_subprocess_is_seen_by_psutil(tmp_path) -> None:
    burner = subprocess.Popen([sys.executable, "-c", BURN])
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        busy, idle = PsutilProbe(tmp_path, pid=burner.pid), PsutilProbe(tmp_path, pid=sleeper.pid)
        time.sleep(1.0)
        busy_reading, idle_reading = busy.read(), idle.read()
    finally:
        for child in (burner, sleeper):
            child.kill()
            child.wait()
    # other work on the machine may share the cores, so compare with an idle process
    assert busy_reading.process_cpu > 0.1 > idle_reading.process_cpu
    assert busy_reading.cpu > 0.0
    assert 0 < busy_reading.memory < 1 and 0 < busy_reading.disk < 1
    assert busy_reading.net_in >= 0 and busy_reading.process_rss > 0


def test_request_rate_and_error_rate_follow_the_counters(probe) -> None:
    registry = MetricsRegistry()
    sampler = MetricsSampler(registry, probe, window=60)
    assert sampler.sample(0.0)["gateway"]["requestsPerSecond"] == 0
    for _ in range(40):
        registry.inc("gateway.requests", method="health")
    for _ in range(10):
        registry.inc("gateway.requests", method="chat.send")
        registry.inc("gateway.errors", code="INTERNAL")
    probe.set(net_in=10_000, net_out=5_000)
    m = sampler.sample(10.0)
    assert m["gateway"]["requestsPerSecond"] == pytest.approx(5.0)
    assert m["gateway"]["errorRate"] == pytest.approx(0.2)
    assert m["system"]["networkIO"] == {"in": 1000.0, "out": 500.0}
    # with no new requests the window slides and the rate decays to zero
    sampler.sample(70.0)
    assert sampler.sample(140.0)["gateway"]["requestsPerSecond"] == 0


def test_agent_and_connection_figures(probe) -> None:
    registry = MetricsRegistry()
    registry.set("gateway.connections", 3)
    registry.set("agents.active_sessions", 2)
    registry.observe("agents.response_seconds", 0.5)
    registry.observe("agents.response_seconds", 1.5)
    registry.inc("agents.tokens", 120, direction="input")
    registry.inc("agents.tokens", 30, direction="output")
    m = MetricsSampler(registry, probe).sample(1.0)
    assert m["gateway"]["activeConnections"] == 3
    assert m["agents"] == {
        "activeSessions": 2,
        "averageResponseTime": 1000.0,
        "tokenUsage": {"input": 120, "output": 30, "total": 150},
    }
    assert m["system"]["cpuUsage"] == 0.1 and m["gateway"]["uptime"] == 5.0


def families(text: str) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def test_prometheus_text_parses(probe) -> None:
    registry = MetricsRegistry()
    registry.inc("gateway.requests", 3, method="health")
    registry.inc("gateway.requests", method='we"ird\\name')
    registry.set("resources.in_use", 2, kind="exec")
    registry.observe("gateway.request_seconds", 0.25)
    sampler = MetricsSampler(registry, probe)
    sampler.sample(0.0)
    parsed = families(exposition(registry, lambda: sampler.latest).decode())
    requests = {s.labels["method"]: s.value for s in parsed["moltbot_gateway_requests"]}
    assert requests == {"health": 3.0, 'we"ird\\name': 1.0}
    assert parsed["moltbot_resources_in_use"][0].labels == {"kind": "exec"}
    summary = {s.name: s.value for s in parsed["moltbot_gateway_request_seconds"]}
    assert summary == {
        "moltbot_gateway_request_seconds_count": 1.0,
        "moltbot_gateway_request_seconds_sum": 0.25,
    }
    assert parsed["moltbot_system_cpu_usage_ratio"][0].value == 0.1
    assert {s.labels["direction"] for s in parsed["moltbot_system_network_bytes_per_second"]} == {"in", "out"}


async def test_service_samples_on_schedule_and_answers_rpc(make_app, probe, rpc_ctx, autojump_clock) -> None:
    app = make_app({"monitoring": {"sampleInterval": 1000}})
    service = MetricsService(app, probe)
    app.services["metrics"] = service
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        probe.set(cpu=0.7)
        app.metrics.inc("gateway.requests", 30)
        await trio.sleep(10.5)
        nursery.cancel_scope.cancel()
    assert probe.reads == 11
    m = await metrics_get(rpc_ctx(app, {}))
    assert m["system"]["cpuUsage"] == 0.7
    assert m["gateway"]["requestsPerSecond"] == pytest.approx(3.0)


async def test_http_routes_serve_prometheus_and_json(make_app, probe) -> None:
    app = make_app()
    service = MetricsService(app, probe)
    app.services["metrics"] = service
    app.metrics.inc("gateway.requests", method="health")
    service.sampler.sample(0.0)
    web = Starlette(routes=[Route("/metrics", prometheus_route), Route("/api/metrics", json_route)])
    web.state.moltbot = app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(web), base_url="http://gw") as client:
        text = await client.get("/metrics")
        data = (await client.get("/api/metrics")).json()
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert families(text.text)["moltbot_gateway_requests"][0].value == 1.0
    assert set(data) >= {"gateway", "agents", "system"}

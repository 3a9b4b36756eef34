"""config suggest / template, and the memory profile."""

from __future__ import annotations

import json

import json5

from moltbot.config import validate
from moltbot.config.model import PerformanceConfig
from moltbot.ops.advice import secure_template, suggest_performance
from moltbot.ops.memprofile import profile_memory
from moltbot.ops.sysinfo import SystemInfo, system_info

GB = 1024**3


def _machine(cpus: int, memory: int) -> SystemInfo:
    return SystemInfo(**{**system_info().__dict__, "cpu_count": cpus, "total_memory": memory})


def test_suggestion_follows_the_seed_and_the_machine():
    big = suggest_performance(_machine(16, 64 * GB), production=True)["performance"]
    assert big["agents"] == {
        "maxConcurrentRuns": 5,
        "sessionCacheSize": 100,
        "memoryLimit": 1024,
        "gcThreshold": 768,
    }
    assert big["gateway"]["rateLimiting"] == {"enabled": True, "requestsPerMinute": 1000, "burstSize": 100}
    dev = suggest_performance(_machine(16, 64 * GB), production=False)["performance"]
    assert dev["agents"]["maxConcurrentRuns"] == 2 and dev["gateway"]["maxConnections"] == 10
    small = suggest_performance(_machine(1, 1 * GB), production=True)["performance"]
    assert small["agents"]["maxConcurrentRuns"] == 1 and small["agents"]["memoryLimit"] == 256
    for suggestion in (big, dev, small):
        PerformanceConfig.model_validate(suggestion)


def test_cli_suggest_and_template_print_valid_json5(run_cli, monkeypatch):
    suggested = json5.loads(run_cli("config", "suggest", "--production").output)
    validate(suggested, None)
    out = run_cli("config", "template", "--secure").output
    template = json5.loads(out)
    monkeypatch.setenv("MOLTBOT_GATEWAY_PASSWORD", "x" * 32)
    raw = {k: v for k, v in template.items() if k != "channels"}
    assert validate(raw, None).agents.defaults.sandbox.mode == "non-main"
    assert template["gateway"]["auth"]["password"] == "${MOLTBOT_GATEWAY_PASSWORD}"
    assert "export MOLTBOT_GATEWAY_PASSWORD='" in out
    assert out != run_cli("config", "template", "--secure").output  # a fresh password each time


def test_template_password_is_strong():
    _, password = secure_template()
    assert len(password) >= 24


def test_memory_profile_sees_the_workload_allocations(run_cli):
    hoard: list[bytes] = []
    profile = profile_memory(top=5, workload=lambda: hoard.extend(bytes(1000) for _ in range(3000)))
    assert profile["process"]["rss"] > 0
    assert len(profile["gc"]["counts"]) == 3 and profile["gc"]["trackedObjects"] > 0
    assert profile["tracemalloc"]["top"][0]["file"] == __file__
    assert profile["tracemalloc"]["tracedPeak"] >= 3_000_000
    result = run_cli("debug", "profile-memory", "--json", "--top", "3")
    assert set(json.loads(result.output)) == {"process", "gc", "tracemalloc"}
    assert "rss" in run_cli("debug", "profile-memory").output

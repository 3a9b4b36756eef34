"""The core-ops built-in plugin: its commands, service and the debug.memory method."""

from __future__ import annotations

from types import SimpleNamespace

from moltbot.testing import make_plugins


def test_core_ops_registers_commands_service_and_method():
    plugins = make_plugins()
    assert {"doctor", "security", "backup", "debug", "diagnostics"} <= set(plugins.commands())
    assert plugins.owner("commands", "doctor").name == "core-ops"
    assert "backup" in plugins.services()
    assert plugins.gateway_methods()["debug.memory"].scope == "operator.admin"
    for name in ("doctor", "security", "backup", "debug", "diagnostics"):
        assert plugins.commands()[name].factory().name == name


async def test_debug_memory_method_answers_a_profile():
    method = make_plugins().gateway_methods()["debug.memory"]
    profile = await method.handler(SimpleNamespace(params={}, app=None))
    assert profile["process"]["rss"] > 0 and "gc" in profile and "tracemalloc" in profile

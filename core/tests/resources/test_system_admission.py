"""Admission against system state read through an injected probe, and the memory-pressure response."""

import gc
import time

import pytest
import trio

from moltbot import BusyError
from moltbot.config.model import PerformanceConfig
from moltbot.resources import ResourceManager
from moltbot.system import MB, FixedProbe, PsutilProbe


def performance(**overrides):
    return PerformanceConfig.model_validate(
        {
            "agents": {"memoryLimit": 1000, "gcThreshold": 800, "memoryRequirement": 64},
            "resources": {"cpuLimit": 0.9, "diskLimit": 0.9, "checkInterval": 5000},
            **overrides,
        }
    )


async def refused(resources, kind="agent"):
    with pytest.raises(BusyError) as info:
        async with resources.acquire(kind, holder="session:x", wait=False):
            pass
    return str(info.value)


async def test_too_little_available_memory_is_refused_with_the_setting_named():
    probe = FixedProbe(memory_available=40 * MB)
    resources = ResourceManager(performance(), probe=probe)
    message = await refused(resources)
    assert "only 40 MB of memory is available" in message
    assert "performance.agents.memoryRequirement" in message
    probe.memory_available = 200 * MB
    async with resources.acquire("agent", holder="session:x", wait=False):
        pass


async def test_cpu_and_disk_limits_refuse_new_resources():
    probe = FixedProbe(cpu=0.97)
    resources = ResourceManager(performance(), probe=probe)
    assert "CPU usage is 97%" in await refused(resources, "exec")
    assert "CPU usage is 97%" in await refused(resources, "browser")
    async with resources.acquire("agent", holder="session:x", wait=False):
        pass  # agent runs wait on the model, not the CPU
    probe.cpu, probe.disk = 0.2, 0.93
    assert "disk is 93% full" in await refused(resources, "exec")


async def test_browser_requirement_is_its_memory_limit():
    probe = FixedProbe(memory_available=300 * MB)
    resources = ResourceManager(performance(), probe=probe)
    assert "performance.tools.browser.memoryLimit" in await refused(resources, "browser")


async def test_waiting_caller_is_admitted_once_the_system_recovers(autojump_clock):
    probe = FixedProbe(cpu=0.99)
    resources = ResourceManager(performance(), probe=probe)

    async def recover():
        await trio.sleep(2.5)
        probe.cpu = 0.1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(recover)
        async with resources.acquire("exec", holder="tool:exec", timeout=10):
            assert trio.current_time() == pytest.approx(3)  # the first re-check after recovery


async def test_waiting_caller_refused_by_the_system_gives_the_reason_at_the_deadline(autojump_clock):
    resources = ResourceManager(performance(), probe=FixedProbe(disk=0.99))
    with pytest.raises(BusyError, match=r"disk is 99% full.*gave up after waiting 2 s"):
        async with resources.acquire("agent", holder="session:x", timeout=2):
            pass


def collections():
    return sum(generation["collections"] for generation in gc.get_stats())


async def test_above_gc_threshold_the_check_collects_and_sheds():
    probe = FixedProbe(process_rss=850 * MB)
    resources = ResourceManager(performance(), probe=probe)
    shed = []

    def shed_cache():
        shed.append(True)
        probe.process_rss = 500 * MB
        return 350 * MB

    resources.register_shedder("cache", shed_cache)
    before = collections()
    snap = resources.check()
    assert collections() > before
    assert shed == [True]
    assert snap.process_rss == 500 * MB
    assert resources.reliefs == 1 and not resources.over_memory_limit
    resources.check()
    assert shed == [True], "below the threshold nothing more is shed"


async def test_above_memory_limit_agent_runs_are_refused_until_it_drops():
    probe = FixedProbe(process_rss=1200 * MB)
    resources = ResourceManager(performance(), probe=probe)
    calls = []
    resources.register_shedder("cache", lambda: calls.append(1) or 0)
    resources.check()
    assert resources.over_memory_limit
    assert resources.status()["overMemoryLimit"] is True
    message = await refused(resources)
    assert "moltbot is using 1200 MB, above performance.agents.memoryLimit (1000 MB)" in message
    assert "refused until it drops" in message
    async with resources.acquire("exec", holder="tool", wait=False):
        pass  # only agent runs are refused for process memory
    probe.process_rss = 300 * MB
    async with resources.acquire("agent", holder="session:x", wait=False):
        assert not resources.over_memory_limit, "admission itself notices the drop"


async def test_admission_relieves_pressure_before_refusing():
    probe = FixedProbe(process_rss=1100 * MB)
    resources = ResourceManager(performance(), probe=probe)

    def shed():
        probe.process_rss = 600 * MB
        return 500 * MB

    resources.register_shedder("cache", shed)
    async with resources.acquire("agent", holder="session:x", wait=False):
        assert resources.reliefs == 1


async def test_a_failing_shedder_does_not_stop_the_others():
    probe = FixedProbe(process_rss=900 * MB)
    resources = ResourceManager(performance(), probe=probe)
    called = []

    def broken():
        raise RuntimeError("boom")

    resources.register_shedder("broken", broken)
    resources.register_shedder("fine", lambda: called.append(1) or 0)
    resources.check()
    assert called == [1]


async def test_run_checks_on_its_interval(autojump_clock):
    probe = FixedProbe(process_rss=900 * MB)
    resources = ResourceManager(performance(), probe=probe)
    async with trio.open_nursery() as nursery:
        await nursery.start(resources.run)
        assert resources.reliefs == 1
        await trio.sleep(12)
        assert resources.reliefs == 3
        nursery.cancel_scope.cancel()
    assert resources.status()["system"]["processRssMb"] == 900


def test_psutil_probe_reads_real_values(tmp_path):
    probe = PsutilProbe(tmp_path / "not-created-yet")
    snap = probe.read()
    assert snap.memory_available > 0 and snap.process_rss > 0
    assert 0 <= snap.cpu <= 1 and 0 < snap.disk < 1


def test_psutil_probe_refreshes_cpu_once_per_window(tmp_path):
    now = [0.0]
    probe = PsutilProbe(tmp_path, cpu_window=5.0, clock=lambda: now[0])
    burn_until = time.process_time() + 0.3
    while time.process_time() < burn_until:
        pass
    held = probe.read()
    assert (held.cpu, held.process_cpu) == (0.0, 0.0)  # the window has not passed: no new figure
    now[0] = 5.0
    assert probe.read().process_cpu > 0.2  # this process burned ~0.3 s of CPU since construction

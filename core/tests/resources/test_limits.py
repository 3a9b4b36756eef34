"""Slot limits per kind under concurrency, waiting, fail-fast and cancellation (MockClock)."""

import pytest
import trio

from moltbot import BusyError
from moltbot.config.model import PerformanceConfig
from moltbot.metrics import MetricsRegistry
from moltbot.resources import ResourceManager
from moltbot.system import FixedProbe


def manager(**agents):
    performance = PerformanceConfig.model_validate(
        {"agents": {"maxConcurrentRuns": 2, **agents}, "tools": {"exec": {"maxProcesses": 3}}}
    )
    return ResourceManager(performance, probe=FixedProbe(), metrics=MetricsRegistry())


async def test_concurrency_never_exceeds_the_limit(autojump_clock):
    resources = manager()
    peak = running = 0

    async def run(i):
        nonlocal peak, running
        async with resources.acquire("agent", holder=f"session:{i}"):
            running += 1
            peak = max(peak, running)
            await trio.sleep(1)
            running -= 1

    async with trio.open_nursery() as nursery:
        for i in range(10):
            nursery.start_soon(run, i)
    assert peak == 2
    assert resources.in_use("agent") == 0 and resources.waiting("agent") == 0
    assert trio.current_time() == pytest.approx(5)


async def test_kinds_are_independent(autojump_clock):
    resources = manager()
    async with (
        resources.acquire("agent", holder="a"),
        resources.acquire("agent", holder="b"),
        resources.acquire("exec", holder="tool:exec", wait=False),
    ):
        assert resources.in_use("exec") == 1


async def test_fail_fast_names_what_is_busy_and_who_holds_it(autojump_clock):
    resources = manager()
    async with resources.acquire("agent", holder="session:a"), resources.acquire("agent", holder="session:b"):
        with pytest.raises(BusyError) as info:
            async with resources.acquire("agent", holder="session:c", wait=False):
                pass
    message = str(info.value)
    assert "agent runs are busy" in message
    assert "session:a" in message and "session:b" in message
    assert "maxConcurrentRuns" in message


async def test_wait_with_deadline_gives_up_with_busy_error(autojump_clock):
    resources = manager()
    async with resources.acquire("agent", holder="a"), resources.acquire("agent", holder="b"):
        start = trio.current_time()
        with pytest.raises(BusyError, match=r"gave up after waiting 3 s"):
            async with resources.acquire("agent", holder="c", timeout=3):
                pass
        assert trio.current_time() - start == pytest.approx(3)
        assert resources.waiting("agent") == 0


async def test_waiter_gets_the_slot_when_it_frees_before_the_deadline(autojump_clock):
    resources = manager(maxConcurrentRuns=1)
    order = []

    async def first():
        async with resources.acquire("agent", holder="first"):
            await trio.sleep(2)
            order.append("first done")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first)
        await trio.sleep(0.1)
        async with resources.acquire("agent", holder="second", timeout=5):
            order.append("second in")
    assert order == ["first done", "second in"]


async def test_cancellation_releases_held_and_waiting_slots(autojump_clock):
    resources = manager(maxConcurrentRuns=1)
    entered = trio.Event()

    async def hold():
        async with resources.acquire("agent", holder="holder"):
            entered.set()
            await trio.sleep_forever()

    async def wait():
        async with resources.acquire("agent", holder="waiter"):
            pytest.fail("the waiter must not get the slot")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(hold)
        await entered.wait()
        nursery.start_soon(wait)
        await trio.sleep(1)
        assert resources.status()["kinds"]["agent"]["waiters"] == ["waiter"]
        nursery.cancel_scope.cancel()
    assert resources.in_use("agent") == 0 and resources.waiting("agent") == 0
    async with resources.acquire("agent", holder="after", wait=False):
        pass


async def test_limit_zero_disables_the_kind():
    performance = PerformanceConfig.model_validate({"tools": {"browser": {"maxInstances": 0}}})
    resources = ResourceManager(performance, probe=FixedProbe())
    with pytest.raises(BusyError, match=r"browser instances are disabled \(performance.tools.browser"):
        async with resources.acquire("browser", holder="x"):
            pass


async def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="known: agent, exec, browser"):
        async with manager().acquire("gpu", holder="x"):
            pass


async def test_holders_and_waiters_are_visible_in_status_and_metrics(autojump_clock):
    resources = manager(maxConcurrentRuns=1)
    metrics = resources.metrics

    async def waiter():
        async with resources.acquire("agent", holder="session:w"):
            pass

    async with trio.open_nursery() as nursery, resources.acquire("agent", holder="session:h"):
        nursery.start_soon(waiter)
        await trio.sleep(1)
        agent = resources.status()["kinds"]["agent"]
        assert agent["limit"] == 1 and agent["inUse"] == 1 and agent["waiting"] == 1
        assert agent["holders"][0]["holder"] == "session:h"
        assert agent["waiters"] == ["session:w"]
        assert metrics.gauges[("resources.in_use", (("kind", "agent"),))] == 1
        assert metrics.gauges[("resources.waiting", (("kind", "agent"),))] == 1
    assert metrics.gauges[("resources.in_use", (("kind", "agent"),))] == 0
    assert metrics.gauges[("resources.waiting", (("kind", "agent"),))] == 0


async def test_waiters_are_served_in_arrival_order(autojump_clock):
    resources = manager(maxConcurrentRuns=1)
    served = []

    async def run(name):
        async with resources.acquire("agent", holder=name):
            served.append(name)
            await trio.sleep(1)

    async with trio.open_nursery() as nursery:
        for name in ("first", "second", "third", "fourth"):
            nursery.start_soon(run, name)
            await trio.sleep(0.01)  # arrive in this order
    assert served == ["first", "second", "third", "fourth"]

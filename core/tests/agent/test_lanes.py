"""Per-session lanes: queue modes, abort (/stop, interrupt), timeout, concurrency across sessions."""

from __future__ import annotations

import json
from collections.abc import Callable

import trio

from moltbot.testing.fake_openai import Reply, ToolCallScript

from .conftest import KEY, ask, model_config, running


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.005)


def user_texts(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


async def test_followup_runs_after_the_current_turn(make_app, fake) -> None:
    app = make_app({**model_config(fake), "messages": {"queue": {"mode": "followup"}}})
    fake.script(Reply(text="one", delay=0.2), Reply(text="two"))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="a")
        await until(lambda: len(fake.requests) == 1)
        second = await runtime.submit(session_key=KEY, text="b")
        assert (await runtime.wait(first, 10))["text"] == "one"
        assert (await runtime.wait(second, 10))["text"] == "two"
    assert user_texts(fake.requests[1].body) == ["a", "b"]


async def test_collect_runs_waiting_messages_as_one_turn(make_app, fake) -> None:
    app = make_app({**model_config(fake), "messages": {"queue": {"mode": "collect"}}})
    fake.script(Reply(text="one", delay=0.2), Reply(text="together"))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="a")
        await until(lambda: len(fake.requests) == 1)
        b = await runtime.submit(session_key=KEY, text="b")
        c = await runtime.submit(session_key=KEY, text="c")
        await runtime.wait(first, 10)
        rb, rc = await runtime.wait(b, 10), await runtime.wait(c, 10)
        assert rb["text"] == rc["text"] == "together"
        assert rc["mergedInto"] == b
    assert len(fake.requests) == 2
    assert user_texts(fake.requests[1].body)[-1] == "b\n\nc"


async def test_steer_joins_the_running_turn_at_its_next_step(make_app, fake) -> None:
    app = make_app(model_config(fake))
    call = ToolCallScript("c1", "read", json.dumps({"path": "SOUL.md"}))
    fake.script(Reply(tool_calls=[call], delay=0.2), Reply(text="did both"))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="read soul")
        await until(lambda: len(fake.requests) == 1)
        steer = await runtime.submit(session_key=KEY, text="and be brief")
        result = await runtime.wait(first, 10)
        steered = await runtime.wait(steer, 10)
        assert result["text"] == steered["text"] == "did both"
        assert steered["mergedInto"] == first
    messages = fake.requests[1].body["messages"]
    assert [m["role"] for m in messages[-3:]] == ["assistant", "tool", "user"]
    assert messages[-1]["content"] == "and be brief"


async def test_steer_after_the_last_step_becomes_a_followup(make_app, fake) -> None:
    app = make_app(model_config(fake))
    fake.script(Reply(text="one", delay=0.2), Reply(text="two"))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="a")
        await until(lambda: len(fake.requests) == 1)
        second = await runtime.submit(session_key=KEY, text="b")
        assert (await runtime.wait(first, 10))["text"] == "one"
        result = await runtime.wait(second, 10)
        assert result["text"] == "two" and "mergedInto" not in result


async def test_interrupt_aborts_the_running_turn(make_app, fake) -> None:
    app = make_app({**model_config(fake), "messages": {"queue": {"mode": "interrupt"}}})
    fake.script(Reply(chunks=["Hello ", "there"], chunk_delay=0.5), Reply(text="fast"))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="slow please")
        await until(lambda: any(p["stream"] == "assistant" for p in app.services["gateway"].of("agent")))
        second = await runtime.submit(session_key=KEY, text="never mind")
        aborted = await runtime.wait(first, 10)
        assert aborted["status"] == "aborted" and aborted["text"] == "Hello "
        assert (await runtime.wait(second, 10))["text"] == "fast"
        session = await (await runtime.store(KEY)).get(KEY)
        partial = [e for e in session.entries if e.get("aborted")]
        assert partial and partial[0]["content"] == "Hello "
        assert app.services["gateway"].of("chat", first)[-1]["state"] == "aborted"


async def test_stop_command_aborts_and_drops_the_queue(make_app, fake) -> None:
    app = make_app({**model_config(fake), "messages": {"queue": {"mode": "followup"}}})
    fake.script(Reply(text="slow", delay=5))
    async with running(app) as runtime:
        first = await runtime.submit(session_key=KEY, text="a")
        await until(lambda: len(fake.requests) == 1)
        queued = await runtime.submit(session_key=KEY, text="b")
        stop = await ask(runtime, "/stop")
        assert stop["text"] == "Stopped (2 runs)."
        assert (await runtime.wait(first, 5))["status"] == "aborted"
        assert (await runtime.wait(queued, 5))["status"] == "aborted"
    assert len(fake.requests) == 1


async def test_run_timeout_is_an_error(make_app, fake) -> None:
    app = make_app(model_config(fake, timeout=1000))
    fake.script(Reply(text="late", delay=3))
    async with running(app) as runtime:
        result = await ask(runtime, "hurry")
        assert result["status"] == "error" and result["stopReason"] == "timeout"
        assert "timed out after 1 s" in result["text"]


async def test_sessions_run_concurrently_up_to_the_limit(make_app, fake) -> None:
    config = {**model_config(fake), "performance": {"agents": {"maxConcurrentRuns": 2}}}
    app = make_app(config)
    fake.script(*[Reply(text=f"r{i}", delay=0.3) for i in range(3)])
    async with running(app) as runtime:
        ids = [await runtime.submit(session_key=f"agent:main:s{i}", text="hi") for i in range(3)]
        await until(lambda: len(fake.requests) == 2)
        await trio.sleep(0.1)
        assert len(fake.requests) == 2
        assert app.metrics.gauge("agents.active_sessions") == 3
        results = [await runtime.wait(i, 10) for i in ids]
        assert all(r["status"] == "ok" for r in results)
        assert app.metrics.gauge("agents.active_sessions") == 0


async def test_idempotency_key_returns_the_same_run(make_app, fake) -> None:
    app = make_app(model_config(fake))
    async with running(app) as runtime:
        a = await runtime.submit(session_key=KEY, text="hi", idempotency_key="k1")
        b = await runtime.submit(session_key=KEY, text="hi", idempotency_key="k1")
        assert a == b
        assert (await runtime.wait(a, 10))["text"] == "echo: hi"
    assert len(fake.requests) == 1


def test_a_message_after_the_turn_loop_ended_queues_instead_of_steering() -> None:
    from moltbot.agent.lanes import Lane, Run

    lane = Lane(KEY)
    active = Run(id="r1", session_key=KEY, text="a")
    lane.active = active
    late = Run(id="r2", session_key=KEY, text="b")
    active.steerable = False
    assert lane.add(late, "steer", cap=5) == []
    assert late.merged_into is None and list(lane.queue) == [late]

"""Turns over the OpenAI wire: plain answers, the tool loop, tool errors, the step limit."""

from __future__ import annotations

import json

import trio

from moltbot.testing.fake_openai import Reply, ToolCallScript

from .conftest import KEY, Recorder, ask, model_config, running


async def test_plain_turn_streams_events_and_persists(make_app, fake) -> None:
    app = make_app(model_config(fake))
    fake.script(Reply(text="Hello there, friend.", usage=(42, 7)))
    async with running(app) as runtime:
        result = await ask(runtime, "hi")
        assert result["status"] == "ok"
        assert result["text"] == "Hello there, friend."
        assert result["usage"]["input"] == 42 and result["usage"]["output"] == 7
        session = await (await runtime.store(KEY)).get(KEY)
        assert session is not None
        roles = [e.get("role") for e in session.entries if e["type"] == "message"]
        assert roles == ["user", "assistant"]
        assert session.meta.input_tokens == 42
        recorder: Recorder = app.services["gateway"]
        agent = recorder.of("agent", result["runId"])
        phases = [(p["stream"], p["data"].get("phase")) for p in agent]
        assert phases[0] == ("lifecycle", "start")
        assert ("lifecycle", "model") in phases and phases[-1] == ("lifecycle", "end")
        assert [p["seq"] for p in agent] == list(range(1, len(agent) + 1))
        deltas = [p["data"]["delta"] for p in agent if p["stream"] == "assistant"]
        assert "".join(deltas) == "Hello there, friend."
        chat = recorder.of("chat", result["runId"])
        assert chat[-1]["state"] == "final"
        assert chat[-1]["message"]["content"] == [{"type": "text", "text": "Hello there, friend."}]
    body = fake.requests[0].body
    assert body["messages"][0]["role"] == "system"
    assert "AGENTS.md" in body["messages"][0]["content"]
    names = [t["function"]["name"] for t in body["tools"]]
    tools = ["apply_patch", "edit", "read", "session_status", "sessions_history", "sessions_list"]
    assert names == [*tools, "sessions_send", "write"]


async def test_tool_loop_reads_a_file_then_answers(make_app, fake, tmp_path) -> None:
    app = make_app(model_config(fake))
    fake.script(
        Reply(tool_calls=[ToolCallScript("call_1", "read", json.dumps({"path": "notes.txt"}))]),
        Reply(text="The note says: buy milk."),
    )
    async with running(app) as runtime:
        (tmp_path / "ws" / "notes.txt").write_text("buy milk\n")
        result = await ask(runtime, "what does my note say?")
        assert result["status"] == "ok" and result["text"] == "The note says: buy milk."
        assert result["steps"] == 2 and result["tools"] == ["read"]
        tool_events = app.services["gateway"].of("agent", result["runId"])
        tools = [p["data"] for p in tool_events if p["stream"] == "tool"]
        assert [t["phase"] for t in tools] == ["start", "result"]
        assert tools[1]["isError"] is False and "buy milk" in tools[1]["result"]
    second = fake.requests[1].body["messages"]
    assert second[-2]["tool_calls"][0]["function"]["name"] == "read"
    assert second[-1]["role"] == "tool" and "buy milk" in second[-1]["content"]


async def test_tool_error_becomes_a_result(make_app, fake) -> None:
    app = make_app(model_config(fake))
    fake.script(
        Reply(tool_calls=[ToolCallScript("c1", "read", json.dumps({"path": "missing.txt"}))]),
        Reply(tool_calls=[ToolCallScript("c2", "nope", "{}")]),
        Reply(tool_calls=[ToolCallScript("c3", "read", "{not json")]),
        Reply(text="Sorry, I could not find it."),
    )
    async with running(app) as runtime:
        result = await ask(runtime, "read missing.txt")
        assert result["status"] == "ok" and result["text"] == "Sorry, I could not find it."
        session = await (await runtime.store(KEY)).get(KEY)
        results = [e for e in session.entries if e["type"] == "toolResult"]
        assert [r["isError"] for r in results] == [True, True, True]
        assert "no such tool" in results[1]["content"]
        assert "not valid JSON" in results[2]["content"]


async def test_step_limit_stops_with_a_notice(make_app, fake) -> None:
    app = make_app(model_config(fake, maxSteps=2))
    call = ToolCallScript("c", "read", json.dumps({"path": "AGENTS.md"}))
    fake.script(Reply(text="Looking.", tool_calls=[call]), Reply(tool_calls=[call]))
    async with running(app) as runtime:
        result = await ask(runtime, "loop forever")
        assert result["status"] == "ok" and result["stopReason"] == "max_steps"
        assert "Stopped after 2 steps" in result["text"]
        assert len(fake.requests) == 2


async def test_trace_is_persisted(make_app, fake) -> None:
    from moltbot.agent.trace import read_traces, traces_dir

    app = make_app(model_config(fake))
    fake.script(
        Reply(tool_calls=[ToolCallScript("c1", "read", json.dumps({"path": "SOUL.md"}))], usage=(20, 2)),
        Reply(text="done", usage=(30, 1)),
    )
    async with running(app) as runtime:
        result = await ask(runtime, "trace me")
    traces = read_traces(traces_dir(app.paths.state_dir, "main"), result["sessionId"])
    assert len(traces) == 1
    trace = traces[0]
    assert trace["runId"] == result["runId"] and trace["status"] == "ok"
    assert trace["modelCalls"] == 2 and trace["toolCalls"] == 1
    assert trace["tokens"] == {"input": 50, "output": 3}
    perf = trace["performance"]
    assert perf["totalDuration"] >= perf["modelCallTime"] + perf["toolExecutionTime"] - 0.01
    kinds = [e["type"] for e in trace["events"]]
    assert kinds.count("model") == 2 and "tool" in kinds


async def test_user_message_is_synced_by_the_end_of_every_run(make_app, fake) -> None:
    """The user message is appended without its own fsync (the answer's append covers it);
    a run that fails before any answer fsyncs it at its end instead."""
    app = make_app(model_config(fake))
    fake.script(
        Reply(text="fine"),
        Reply(status=400, error_type="invalid_request_error", error_message="bad request"),
    )
    async with running(app) as runtime:
        assert (await ask(runtime, "first"))["status"] == "ok"
        session = await (await runtime.store(KEY)).get(KEY)
        assert session is not None and session.unsynced is False
        assert (await ask(runtime, "second"))["status"] == "error"
        assert session.unsynced is False
        lines = [json.loads(line) for line in session.path.read_text().splitlines()]
        users = [e["content"] for e in lines if e.get("role") == "user"]
        assert users == ["first", "second"]


async def test_a_models_reload_does_not_cut_off_a_running_answer(make_app, fake) -> None:
    from moltbot.config import Settings

    app = make_app(model_config(fake))
    fake.script(Reply(text="slow but whole answer", chunk_delay=0.05), Reply(text="from the new config"))
    async with running(app) as runtime:
        run_id = await runtime.submit(session_key=KEY, text="hi")
        with trio.fail_after(10):
            while not fake.requests:
                await trio.sleep(0.01)
        old = runtime.providers()["openai"]
        raw = app.settings.model_dump(by_alias=True)
        raw["models"]["providers"]["openai"]["timeout"] = 6000
        app.settings = Settings.model_validate(raw)  # what a hot reload does
        assert runtime.providers()["openai"] is not old  # rebuilt while the answer streams
        result = await runtime.wait(run_id, timeout=20)
        assert (result["status"], result["text"]) == ("ok", "slow but whole answer")
        assert (await ask(runtime, "again"))["text"] == "from the new config"
        with trio.fail_after(10):
            while not old._http.is_closed:  # retired once its run ended
                await trio.sleep(0.01)

"""Chat commands, the no-model hint, failover notice, compaction and crash recovery."""

from __future__ import annotations

from typing import Any

import trio

from moltbot.agent import AgentRuntime
from moltbot.agent.execute import NO_MODEL_HINT
from moltbot.interfaces.tool import ApprovalRequest
from moltbot.sessions import entries as E
from moltbot.sessions.transcript import TORN_SUFFIX
from moltbot.testing.fake_openai import Reply
from moltbot.tools.approvals import ApprovalRegistry

from .conftest import KEY, ask, model_config, running


async def test_no_model_answers_with_a_setup_hint(make_app, fake) -> None:
    app = make_app({})
    async with running(app) as runtime:
        result = await ask(runtime, "hi")
        assert result["status"] == "ok" and result["stopReason"] == "no_model"
        assert result["text"] == NO_MODEL_HINT
        assert "moltbot onboard" in NO_MODEL_HINT and "OPENAI_API_KEY" in NO_MODEL_HINT
        assert runtime.status()["configured"] is False
        chat = app.services["gateway"].of("chat", result["runId"])
        assert chat[-1]["state"] == "final"
    assert fake.requests == []


async def test_commands_never_reach_the_model(make_app, fake) -> None:
    app = make_app(model_config(fake))
    async with running(app) as runtime:
        assert "/compact" in (await ask(runtime, "/help"))["text"]
        await ask(runtime, "hello")
        status = (await ask(runtime, "/status"))["text"]
        assert "Model: openai/fake-model" in status and "Messages: 2" in status
        assert "Queue: steer" in status
        assert (await ask(runtime, "/queue collect"))["text"] == "Queue mode for this session: collect."
        assert runtime.queue_mode(KEY) == "collect"
        assert "Unknown queue mode" in (await ask(runtime, "/queue sideways"))["text"]
        assert "No provider 'nope'" in (await ask(runtime, "/model nope/x"))["text"]
        assert (await ask(runtime, "/model openai/other"))["text"] == "Model for this session: openai/other."
        await ask(runtime, "which model?")
        assert (await ask(runtime, "/model default"))["text"] == "Back to the configured model."
        usage = (await ask(runtime, "/usage"))["text"]
        assert usage.startswith("Session tokens: 20 in, 10 out")
        old = (await runtime.store(KEY)).meta(KEY).session_id
        assert (await ask(runtime, "/new"))["text"].startswith("New session started")
        assert (await runtime.store(KEY)).meta(KEY).session_id != old
        assert (await ask(runtime, "/etc/hosts is what?"))["text"] == "echo: /etc/hosts is what?"
    assert [r.body["model"] for r in fake.requests] == ["fake-model", "other", "fake-model"]
    assert runtime.overrides(KEY).get(KEY) == {"queueMode": "collect"}


class WithAnApprover:
    """The real gateway, reporting one approver as connected (with none, a request is denied
    at once and there would be nothing for /approve to answer)."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    def broadcast(self, event: str, payload: dict[str, Any], *, scope: str | None = "operator.read") -> int:
        self.gateway.broadcast(event, payload, scope=scope)
        return 1


async def test_approve_command_answers_a_pending_request(make_app, fake, nursery) -> None:
    app = make_app(model_config(fake))
    async with running(app) as runtime:
        registry = ApprovalRegistry(
            app.paths.state_dir, gateway=lambda: WithAnApprover(app.services["gateway"])
        )
        app.services["approvals"] = registry
        answers: list[str] = []

        async def asker() -> None:
            request = ApprovalRequest(tool="exec", description="run ls", command="ls")
            answers.append(await registry.request(request, agent_id="main", session_key=KEY))

        nursery.start_soon(asker)
        with trio.fail_after(5):
            while not registry.pending():
                await trio.sleep(0.005)
        pending = registry.pending()[0]["id"]
        assert "Usage" in (await ask(runtime, "/approve"))["text"]
        assert (await ask(runtime, f"/approve {pending} allow-once"))[
            "text"
        ] == f"Approval {pending}: allow-once."
        with trio.fail_after(5):
            while not answers:
                await trio.sleep(0.005)
        assert answers == ["allow-once"]
        assert "No pending approval" in (await ask(runtime, f"/approve {pending} deny"))["text"]


async def test_fallback_answer_carries_a_notice(make_app, fake, fake_anthropic) -> None:
    fake_anthropic.fail_auth()
    config = model_config(fake)
    config["agent"] = {"model": {"primary": "anthropic/claude-test", "fallbacks": ["openai/fake-model"]}}
    config["models"]["providers"]["anthropic"] = {"baseUrl": fake_anthropic.base_url, "apiKey": "sk-bad"}
    app = make_app(config)
    fake.script(Reply(text="from the fallback"))
    async with running(app) as runtime:
        result = await ask(runtime, "hi")
        assert result["status"] == "ok" and result["model"] == "openai/fake-model"
        assert result["notice"].startswith("↪ answered by fallback openai/fake-model (anthropic/claude-test:")
        assert result["text"] == f"{result['notice']}\n\nfrom the fallback"
        model_events = [
            p["data"]
            for p in app.services["gateway"].of("agent", result["runId"])
            if p["data"].get("phase") == "model"
        ]
        assert model_events == [
            {"phase": "model", "provider": "openai", "model": "fake-model", "fallback": True}
        ]


async def test_provider_failure_ends_the_run_with_an_error(make_app, fake) -> None:
    fake.fail_auth()
    app = make_app(model_config(fake))
    async with running(app) as runtime:
        result = await ask(runtime, "hi")
        assert result["status"] == "error" and result["text"].startswith("⚠️ model error (auth)")
        assert app.services["gateway"].of("chat", result["runId"])[-1]["state"] == "error"
        lifecycle = [p["data"]["phase"] for p in app.services["gateway"].of("agent", result["runId"])]
        assert lifecycle[-1] == "error"


async def _fill(runtime: AgentRuntime, turns: int) -> None:
    session = await (await runtime.store(KEY)).session(KEY)
    for i in range(turns):
        await session.append(E.message("user", f"question {i} " + "x" * 400))
        await session.append(E.message("assistant", f"answer {i} " + "y" * 400))


async def test_compaction_when_context_nears_the_window(make_app, fake) -> None:
    app = make_app(model_config(fake, contextTokens=2000, compactionThreshold=0.5, keepRecentTokens=200))
    fake.script(Reply(text="SUMMARY: questions 0-9 about x"), Reply(text="fresh answer"))
    async with running(app) as runtime:
        await _fill(runtime, 10)
        result = await ask(runtime, "next question")
        assert result["text"] == "fresh answer"
        session = await (await runtime.store(KEY)).get(KEY)
        compactions = [e for e in session.entries if e["type"] == "compaction"]
        assert len(compactions) == 1 and compactions[0]["summary"] == "SUMMARY: questions 0-9 about x"
        phases = [
            p["data"]
            for p in app.services["gateway"].of("agent", result["runId"])
            if p["stream"] == "compaction"
        ]
        assert phases == [{"phase": "start"}, {"phase": "end", "compacted": True}]
    summarize, answer = fake.requests[0].body, fake.requests[1].body
    assert "tools" not in summarize and "question 0" in summarize["messages"][-1]["content"]
    assert "SUMMARY: questions 0-9" in answer["messages"][0]["content"]
    assert not any("question 0 " in str(m.get("content")) for m in answer["messages"][1:])
    assert answer["messages"][-1]["content"] == "next question"


async def test_compact_command(make_app, fake) -> None:
    app = make_app(model_config(fake))
    fake.script(Reply(text="short summary"))
    async with running(app) as runtime:
        assert (await ask(runtime, "/compact"))["text"] == "Nothing to compact yet."
        await _fill(runtime, 3)
        result = await ask(runtime, "/compact focus on x")
        assert result["text"].startswith("Compacted: ")
        assert "Focus: focus on x" in fake.requests[0].body["messages"][-1]["content"]
        view = (await (await runtime.store(KEY)).get(KEY)).context()
        assert view.summary == "short summary"


async def test_torn_transcript_tail_does_not_stop_the_next_turn(make_app, fake) -> None:
    app = make_app(model_config(fake))
    fake.script(Reply(text="first answer"), Reply(text="second answer"))
    async with running(app) as runtime:
        first = await ask(runtime, "remember 42")
        path = (await (await runtime.store(KEY)).get(KEY)).path
    with open(path, "ab") as handle:
        handle.write(b'{"type":"message","role":"user","content":"half a li')
    async with running(app) as runtime:
        second = await ask(runtime, "what number?")
        assert second["text"] == "second answer" and second["sessionId"] == first["sessionId"]
    messages = fake.requests[1].body["messages"]
    assert [m["content"] for m in messages[1:]] == ["remember 42", "first answer", "what number?"]
    assert path.with_name(path.name + TORN_SUFFIX).exists()

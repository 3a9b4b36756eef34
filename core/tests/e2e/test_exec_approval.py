"""Exec approvals end to end: a real in-process gateway, the agent runtime, the exec plugin and
the fake OpenAI model scripted to run a command that is not allowlisted.

An operator client holding ``operator.approvals`` answers ``exec.approval.requested``; the
``chat.send`` caller gets the model's final reply; the fake server's recorded requests show what
the model was told the tool did.
"""

from __future__ import annotations

import json

import trio

from moltbot.testing.fake_openai import FakeOpenAI, Reply, ToolCallScript

from .conftest import DEADLINE, client, final_reply, send, serving

COMMAND = "echo approved-run > marker.txt"


def script_exec(fake: FakeOpenAI) -> None:
    """The model calls ``exec`` once, then answers with text after seeing the result."""
    call = ToolCallScript(id="call_1", name="exec", arguments=json.dumps({"command": COMMAND}))
    fake.script(Reply(tool_calls=[call]), Reply(text="done"))


def tool_result_seen_by_model(fake: FakeOpenAI) -> str:
    """The ``tool`` message answering ``call_1`` in the model's second request."""
    completions = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    assert len(completions) == 2, [r.body for r in completions]
    messages = completions[1].body["messages"]
    results = [m for m in messages if m.get("role") == "tool" and m.get("tool_call_id") == "call_1"]
    assert len(results) == 1, messages
    content = results[0]["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


async def test_allow_once_runs_the_command_and_the_model_sees_its_result(
    make_app, fake, workspace, moltbot_home
):
    script_exec(fake)
    with trio.fail_after(DEADLINE):
        async with (
            serving(make_app()) as gateway,
            client(gateway, "operator.approvals") as approver,
            client(gateway, "operator.read", "operator.write") as chat,
        ):
            sent = await send(chat, "make the marker")
            requested = (await approver.wait_event("exec.approval.requested"))["payload"]
            assert requested["command"] == COMMAND and requested["tool"] == "exec"
            assert requested["sessionKey"] == "agent:main:main"
            assert not (workspace / "marker.txt").exists()  # nothing runs before the answer
            pending = await approver.call("exec.approval.list")
            assert [p["id"] for p in pending["pending"]] == [requested["id"]]
            answer = {"id": requested["id"], "decision": "allow-once"}
            resolved = await approver.call("exec.approval.resolve", answer)
            assert resolved["command"] == COMMAND
            reply = await final_reply(chat, sent["runId"])
            assert reply["state"] == "final"
            assert reply["message"]["content"] == [{"type": "text", "text": "done"}]
            event = (await approver.wait_event("exec.approval.resolved"))["payload"]
            assert event == {"id": requested["id"], "decision": "allow-once", "reason": "operator"}
            assert (await approver.call("exec.approval.list"))["pending"] == []
    assert (workspace / "marker.txt").read_text() == "approved-run\n"
    assert "[exit code 0]" in tool_result_seen_by_model(fake)
    assert not (moltbot_home / "exec-approvals.json").exists()  # allow-once is not remembered


async def test_deny_does_not_run_the_command_and_the_model_is_told(make_app, fake, workspace):
    script_exec(fake)
    with trio.fail_after(DEADLINE):
        async with (
            serving(make_app()) as gateway,
            client(gateway, "operator.approvals", "operator.write") as operator,
        ):
            sent = await send(operator, "make the marker")
            requested = (await operator.wait_event("exec.approval.requested"))["payload"]
            await operator.call("exec.approval.resolve", {"id": requested["id"], "decision": "deny"})
            reply = await final_reply(operator, sent["runId"])
            assert reply["state"] == "final"
    assert not (workspace / "marker.txt").exists()
    assert "not approved" in tool_result_seen_by_model(fake)


async def test_nobody_to_approve_means_deny_when_the_request_expires(make_app, fake, workspace):
    """Only a chat client (no ``operator.approvals``) is connected, so nobody sees the request:
    it expires after ``approvalTimeout`` (its 1 s minimum here) and the command is refused."""
    script_exec(fake)
    with trio.fail_after(DEADLINE):
        async with (
            serving(make_app(approvalTimeout=1000)) as gateway,
            client(gateway, "operator.read", "operator.write") as chat,
        ):
            sent = await send(chat, "make the marker")
            reply = await final_reply(chat, sent["runId"])
            assert reply["state"] == "final"
            assert not any(f["event"].startswith("exec.approval") for f in chat.events)
    assert not (workspace / "marker.txt").exists()
    assert "not approved" in tool_result_seen_by_model(fake)


async def test_approve_command_in_chat_answers_the_request(make_app, fake, workspace, moltbot_home):
    """``/approve <id> allow-always`` sent through ``chat.send`` resolves the request while the
    run waits, and persists the exact command for the agent."""
    script_exec(fake)
    with trio.fail_after(DEADLINE):
        async with (
            serving(make_app()) as gateway,
            client(gateway, "operator.approvals", "operator.write") as operator,
        ):
            sent = await send(operator, "make the marker")
            requested = (await operator.wait_event("exec.approval.requested"))["payload"]
            approve = f"/approve {requested['id']} allow-always"
            command = await send(operator, approve)
            answered = await final_reply(operator, command["runId"])
            assert answered["message"]["content"][0]["text"] == f"Approval {requested['id']}: allow-always."
            reply = await final_reply(operator, sent["runId"])
            assert reply["message"]["content"] == [{"type": "text", "text": "done"}]
    assert (workspace / "marker.txt").read_text() == "approved-run\n"
    allowlist = json.loads((moltbot_home / "exec-approvals.json").read_text())
    assert [e["command"] for e in allowlist["agents"]["main"]["allowlist"]] == [COMMAND]

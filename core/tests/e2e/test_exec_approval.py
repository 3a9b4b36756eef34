"""Exec approvals end to end: a real in-process gateway, the agent runtime, the exec plugin and
the fake OpenAI model scripted to run a command that is not allowlisted.

An operator client holding ``operator.approvals`` answers ``exec.approval.requested``; the
``chat.send`` caller gets the model's final reply; the fake server's recorded requests show what
the model was told the tool did.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.client import ConnectOptions, GatewayClient, connect
from moltbot.gateway.server import Gateway
from moltbot.plugins import Plugins, load_plugins
from moltbot.runtime import run_gateway
from moltbot.testing.fake_openai import FakeOpenAI, Reply, ToolCallScript

TOKEN = "e2e-test-token-0123456789abcdefghijklmnopqrs"
COMMAND = "echo approved-run > marker.txt"
DEADLINE = 30.0
"""Seconds any test here may take; a lost event or a hung approval fails instead of hanging."""


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    plugins = load_plugins()
    if "openai" not in plugins.model_providers() or "exec" not in plugins.tools():
        pytest.skip("moltbot-openai and moltbot-exec must be installed")
    return plugins


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeOpenAI:
    server = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(server.run)
    return server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def make_app(moltbot_home: Path, workspace: Path, plugins: Plugins, fake: FakeOpenAI) -> Callable[..., App]:
    def build(**exec_config: Any) -> App:
        env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
        paths = resolve_paths(env)
        config = {
            "agent": {"model": "openai/fake-model", "workspace": str(workspace)},
            "models": {
                "providers": {"openai": {"baseUrl": fake.base_url, "apiKey": "sk-test", "timeout": 5000}}
            },
            "tools": {"profile": "coding", "exec": {"allowlist": ["ls"], **exec_config}},
            "gateway": {"auth": {"mode": "token", "token": TOKEN}},
            "monitoring": {"enabled": False},
        }
        write_config(paths.config_path, config)
        return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)

    return build


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[Gateway]:
    """``run_gateway`` as ``moltbot run`` starts it: every service, then the gateway."""
    async with trio.open_nursery() as nursery:
        stop = trio.Event()
        gateway: Gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        yield gateway
        stop.set()


def client(gateway: Gateway, *scopes: str) -> Any:
    return connect(gateway.urls[0], ConnectOptions(token=TOKEN, scopes=list(scopes)))


async def send(c: GatewayClient, message: str) -> dict[str, Any]:
    """``chat.send`` to the owner's main session (which is not sandboxed by default)."""
    params = {"sessionKey": "main", "message": message, "idempotencyKey": secrets.token_hex(8)}
    return await c.call("chat.send", params)


def script_exec(fake: FakeOpenAI) -> None:
    """The model calls ``exec`` once, then answers with text after seeing the result."""
    call = ToolCallScript(id="call_1", name="exec", arguments=json.dumps({"command": COMMAND}))
    fake.script(Reply(tool_calls=[call]), Reply(text="done"))


async def final_reply(c: GatewayClient, run_id: str) -> dict[str, Any]:
    while True:
        frame = await c.wait_event("chat")
        payload = frame["payload"]
        if payload["runId"] == run_id and payload["state"] in ("final", "error", "aborted"):
            return payload


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

"""Exec approvals: security and ask modes, the allowlist, and what happens when nobody answers."""

import dataclasses

import pytest

from moltbot.interfaces.tool import ApprovalRequest
from moltbot.tools import invoke_tool


class Approver:
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[ApprovalRequest] = []

    async def __call__(self, request: ApprovalRequest) -> str:
        self.asked.append(request)
        return self.answer


def exec_config(**values):
    return {"tools": {"exec": values}}


async def run(make_tools, ctx, command, config, approver=None):
    exec_tool, _ = make_tools(config)
    ctx = dataclasses.replace(ctx, request_approval=approver)
    return await invoke_tool(exec_tool, ctx, {"command": command})


async def test_default_policy_with_nobody_to_ask_denies(make_tools, host, workspace):
    result = await run(make_tools, host, "touch x", {})
    assert (
        result.is_error
        and "needs an operator's approval" in result.text
        and "nobody can approve" in result.text
    )
    assert not (workspace / "x").exists()


async def test_allowlisted_commands_run_without_asking(make_tools, host):
    approver = Approver("deny")
    config = exec_config(allowlist=["echo *", "pwd"])
    assert (await run(make_tools, host, "echo   hello", config, approver)).text == "hello\n[exit code 0]"
    assert not approver.asked


@pytest.mark.parametrize("command", ["echo hi; touch x", "echo $(touch x)", "echo hi > x", "echo `touch x`"])
async def test_shell_operators_never_match_the_allowlist(make_tools, host, workspace, command):
    approver = Approver("deny")
    result = await run(make_tools, host, command, exec_config(allowlist=["echo *"]), approver)
    assert result.is_error and "was not approved" in result.text
    assert len(approver.asked) == 1 and approver.asked[0].command == command
    assert not (workspace / "x").exists()


async def test_a_miss_asks_and_allow_once_runs(make_tools, host, workspace):
    approver = Approver("allow-once")
    result = await run(make_tools, host, "touch made", {}, approver)
    assert not result.is_error and (workspace / "made").exists()
    request = approver.asked[0]
    assert request.tool == "exec" and request.cwd == str(workspace) and not request.force


async def test_ask_always_asks_even_for_allowlisted_commands(make_tools, host):
    approver = Approver("deny")
    config = exec_config(allowlist=["pwd"], ask="always")
    assert (await run(make_tools, host, "pwd", config, approver)).is_error
    assert approver.asked[0].force


async def test_ask_off_denies_misses_without_asking(make_tools, host):
    approver = Approver("allow-once")
    result = await run(make_tools, host, "touch x", exec_config(ask="off"), approver)
    assert result.is_error and "tools.exec.ask is off" in result.text and not approver.asked


async def test_security_deny_and_full(make_tools, host):
    approver = Approver("allow-once")
    denied = await run(make_tools, host, "pwd", exec_config(security="deny"), approver)
    assert denied.is_error and "security is deny" in denied.text and not approver.asked
    full = await run(make_tools, host, "echo ok | cat", exec_config(security="full"), approver)
    assert full.text == "ok\n[exit code 0]" and not approver.asked


class RecordingGateway:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []

    def broadcast(self, event: str, payload: dict, *, scope: str | None = "operator.read") -> int:
        assert scope == "operator.approvals"
        self.events.append((event, payload))
        return 1  # one operator with the approvals scope is connected


@dataclasses.dataclass
class Rpc:
    params: object
    app: object
    method: str = "exec.approval.resolve"
    conn_id: str = "op"
    role: str = "operator"
    scopes: frozenset = frozenset({"operator.approvals"})


async def test_exec_through_the_approvals_registry_and_the_resolve_rpc(make_tools, host, workspace, tmp_path):
    """Everything but the gateway's socket: the event goes out, the RPC answers, the command runs,
    and allow-always makes the next identical command run without asking."""
    import trio

    from moltbot.default_plugins.tools import ResolveParams, resolve_approval
    from moltbot.tools.approvals import ApprovalRegistry

    gateway = RecordingGateway()
    registry = ApprovalRegistry(tmp_path / "state", timeout=30, gateway=lambda: gateway)
    app = dataclasses.make_dataclass("App", [("services", dict)])({"approvals": registry})
    ctx = dataclasses.replace(
        host, request_approval=registry.asker(agent_id="main", session_key=host.session_key)
    )
    exec_tool, _ = make_tools({})
    results = []
    async with trio.open_nursery() as nursery:

        async def call() -> None:
            results.append(await invoke_tool(exec_tool, ctx, {"command": "touch approved"}))

        nursery.start_soon(call)
        with trio.fail_after(5):
            while not gateway.events:
                await trio.sleep(0.01)
        event, payload = gateway.events[0]
        assert event == "exec.approval.requested" and payload["command"] == "touch approved"
        assert not (workspace / "approved").exists()
        await resolve_approval(Rpc(ResolveParams(id=payload["id"], decision="allow-always"), app))
    assert results[0].text == "[exit code 0]" and (workspace / "approved").exists()
    asked = len(gateway.events)
    again = await invoke_tool(exec_tool, ctx, {"command": "touch approved"})
    assert again.text == "[exit code 0]" and len(gateway.events) == asked

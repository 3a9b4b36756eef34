"""The approvals registry and its RPC methods, driven with a fake gateway and RpcContext."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.default_plugins.tools import ResolveParams, list_approvals, resolve_approval
from moltbot.interfaces.rpc import RpcError
from moltbot.interfaces.tool import ApprovalRequest
from moltbot.tools.approvals import ApprovalRegistry


class FakeGateway:
    """Records events; ``approvers`` is how many connected clients hold the approvals scope."""

    def __init__(self, approvers: int = 1) -> None:
        self.events: list[tuple[str, dict[str, Any], str | None]] = []
        self.approvers = approvers

    def broadcast(self, event: str, payload: dict[str, Any], *, scope: str | None = "operator.read") -> int:
        self.events.append((event, payload, scope))
        return self.approvers


@dataclass
class FakeApp:
    services: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeRpcContext:
    params: Any
    app: FakeApp
    method: str = "exec.approval.resolve"
    conn_id: str = "c1"
    role: str = "operator"
    scopes: frozenset[str] = frozenset({"operator.approvals"})


REQUEST = ApprovalRequest(tool="exec", description="run `make deploy`", command="make deploy", cwd="/ws")


@pytest.fixture
def gateway():
    return FakeGateway()


@pytest.fixture
def registry(tmp_path: Path, gateway: FakeGateway) -> ApprovalRegistry:
    return ApprovalRegistry(tmp_path / "state", timeout=60, gateway=lambda: gateway)


async def ask_and_answer(registry, gateway, decision, request=REQUEST):
    """Start a request, answer it through the RPC handler, return what the tool got."""
    got = []
    app = FakeApp({"approvals": registry})
    async with trio.open_nursery() as nursery:

        async def ask():
            got.append(await registry.asker(agent_id="main", session_key="agent:main:main")(request))

        nursery.start_soon(ask)
        await trio.testing.wait_all_tasks_blocked()
        event, payload, scope = gateway.events[-1]
        assert (event, scope) == ("exec.approval.requested", "operator.approvals")
        listed = await list_approvals(FakeRpcContext(None, app, method="exec.approval.list"))
        assert [p["id"] for p in listed["pending"]] == [payload["id"]]
        params = ResolveParams(id=payload["id"], decision=decision)
        answer = await resolve_approval(FakeRpcContext(params, app))
        assert answer == {"id": payload["id"], "decision": decision, "command": "make deploy"}
    return got[0], payload


async def test_allow_once_is_not_remembered(registry, gateway):
    decision, payload = await ask_and_answer(registry, gateway, "allow-once")
    assert decision == "allow-once"
    assert payload["command"] == "make deploy" and payload["agentId"] == "main"
    assert payload["expiresAtMs"] - payload["createdAtMs"] == 60_000
    assert gateway.events[-1] == (
        "exec.approval.resolved",
        {"id": payload["id"], "decision": "allow-once", "reason": "operator"},
        "operator.approvals",
    )
    assert not registry.store.contains("main", "make deploy")
    assert not registry.pending()


async def test_allow_always_persists_and_skips_the_next_prompt(registry, gateway, tmp_path):
    decision, _ = await ask_and_answer(registry, gateway, "allow-always")
    assert decision == "allow-always"
    saved = json.loads((tmp_path / "state" / "exec-approvals.json").read_text())
    assert saved["agents"]["main"]["allowlist"][0]["command"] == "make deploy"
    count = len(gateway.events)
    assert await registry.request(REQUEST, agent_id="main", session_key="s") == "allow-always"
    assert len(gateway.events) == count  # nobody was asked
    other_agent = ApprovalRegistry(tmp_path / "state", timeout=0.01, gateway=lambda: None)
    assert await other_agent.request(REQUEST, agent_id="other", session_key="s") == "deny"


async def test_force_asks_even_when_allowed_always(registry, gateway):
    registry.store.add("main", "make deploy")
    forced = ApprovalRequest(tool="exec", description="d", command="make deploy", force=True)
    decision, _ = await ask_and_answer(registry, gateway, "deny", request=forced)
    assert decision == "deny"


async def test_requests_expire_as_deny(tmp_path, gateway, autojump_clock):
    registry = ApprovalRegistry(tmp_path, timeout=120, gateway=lambda: gateway)
    start = trio.current_time()
    assert await registry.request(REQUEST, agent_id="main", session_key="s") == "deny"
    assert trio.current_time() - start == pytest.approx(120)
    assert gateway.events[-1][1]["reason"] == "expired"
    params = ResolveParams(id=gateway.events[0][1]["id"], decision="allow-once")
    with pytest.raises(RpcError) as info:
        await resolve_approval(FakeRpcContext(params, FakeApp({"approvals": registry})))
    assert info.value.code == "NOT_FOUND" and "expired" in info.value.message


async def test_nobody_to_ask_means_deny(tmp_path):
    registry = ApprovalRegistry(tmp_path, timeout=120, gateway=lambda: None)
    with trio.fail_after(1):
        assert await registry.request(REQUEST, agent_id="main", session_key="s") == "deny"


async def test_shutdown_denies_what_is_pending(registry, gateway):
    got = []
    async with trio.open_nursery() as nursery:
        await nursery.start(registry.run)

        async def ask():
            got.append(await registry.request(REQUEST, agent_id="main", session_key="s"))

        nursery.start_soon(ask)
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    assert got == [] or got == ["deny"]
    assert gateway.events[-1][1]["reason"] in {"shutdown", "cancelled"}
    assert not registry.pending()


async def test_rpc_without_the_service_is_unavailable():
    with pytest.raises(RpcError) as info:
        await resolve_approval(FakeRpcContext(ResolveParams(id="x", decision="deny"), FakeApp()))
    assert info.value.code == "UNAVAILABLE"


def test_the_methods_are_registered_with_the_approvals_scope():
    from moltbot.testing import make_plugins

    methods = make_plugins().gateway_methods()
    assert methods["exec.approval.resolve"].scope == "operator.approvals"
    assert methods["exec.approval.resolve"].params is ResolveParams
    assert "approvals" in make_plugins().services()


def test_a_corrupt_allowlist_file_denies_rather_than_crashes(tmp_path):
    (tmp_path / "exec-approvals.json").write_text("{nope")
    registry = ApprovalRegistry(tmp_path)
    assert not registry.store.contains("main", "ls")


async def test_nobody_connected_to_approve_is_an_immediate_deny(tmp_path):
    gateway = FakeGateway(approvers=0)
    registry = ApprovalRegistry(tmp_path / "state", timeout=3600, gateway=lambda: gateway)
    with trio.fail_after(1):  # real time: no waiting for the hour-long timeout
        decision = await registry.request(
            ApprovalRequest(tool="exec", description="run `ls`", command="ls"),
            agent_id="main",
            session_key="agent:main:main",
        )
    assert decision == "deny"
    assert [e[0] for e in gateway.events] == ["exec.approval.requested", "exec.approval.resolved"]
    assert gateway.events[-1][1]["reason"] == "no-approver"

"""Exec approvals: pending requests operators answer, and the persisted "allow always" list.

A tool asks through ``ToolContext.request_approval`` (bound by the agent loop to
:meth:`ApprovalRegistry.asker`). The registry broadcasts ``exec.approval.requested`` to clients
holding ``operator.approvals`` and waits for ``exec.approval.resolve``. Nobody to ask (no gateway
running) or no answer before the request expires means deny. ``allow-always`` adds the exact
command to ``<state dir>/exec-approvals.json`` for that agent.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio
from loguru import logger

from moltbot.config.store import atomic_write
from moltbot.interfaces.service import Service
from moltbot.interfaces.tool import ApprovalDecision, ApprovalRequest

ALLOWLIST_FILE = "exec-approvals.json"
REQUESTED, RESOLVED = "exec.approval.requested", "exec.approval.resolved"
SCOPE = "operator.approvals"


class AllowlistStore:
    """``{"version": 1, "agents": {"<id>": {"allowlist": [{"command", "addedAt"}]}}}``, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "agents": {}}
        except (OSError, ValueError) as exc:
            logger.warning("{} is unreadable ({}); treating the exec allowlist as empty", self.path, exc)
            return {"version": 1, "agents": {}}
        if not isinstance(data, dict) or not isinstance(data.get("agents"), dict):
            return {"version": 1, "agents": {}}
        return data

    def commands(self, agent_id: str) -> list[str]:
        entries = self._load()["agents"].get(agent_id, {}).get("allowlist", [])
        return [e["command"] for e in entries if isinstance(e, dict) and isinstance(e.get("command"), str)]

    def contains(self, agent_id: str, command: str) -> bool:
        return command.strip() in self.commands(agent_id)

    def add(self, agent_id: str, command: str) -> None:
        data = self._load()
        agent = data["agents"].setdefault(agent_id, {})
        entries = agent.setdefault("allowlist", [])
        if command.strip() in self.commands(agent_id):
            return
        entries.append({"command": command.strip(), "addedAt": datetime.now(UTC).isoformat()})
        atomic_write(self.path, (json.dumps(data, indent=2) + "\n").encode())


@dataclass
class PendingApproval:
    id: str
    request: ApprovalRequest
    agent_id: str
    session_key: str
    created_at_ms: int
    expires_at_ms: int
    decision: ApprovalDecision | None = None
    done: trio.Event = field(default_factory=trio.Event)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tool": self.request.tool,
            "description": self.request.description,
            "command": self.request.command,
            "cwd": self.request.cwd,
            "agentId": self.agent_id,
            "sessionKey": self.session_key,
            "createdAtMs": self.created_at_ms,
            "expiresAtMs": self.expires_at_ms,
        }


class ApprovalRegistry(Service):
    """Pending approval requests of this process (``app.services["approvals"]``)."""

    def __init__(
        self,
        state_dir: Path,
        *,
        timeout: float = 120.0,
        gateway: Callable[[], Any | None] = lambda: None,
    ) -> None:
        self.store = AllowlistStore(state_dir / ALLOWLIST_FILE)
        self.timeout = timeout
        self._gateway = gateway
        self._pending: dict[str, PendingApproval] = {}

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            for pending in list(self._pending.values()):
                self._finish(pending, "deny", reason="shutdown")

    def status(self) -> dict[str, Any]:
        return {"pending": len(self._pending)}

    def pending(self) -> list[dict[str, Any]]:
        return [p.to_json() for p in self._pending.values()]

    def asker(
        self, *, agent_id: str, session_key: str
    ) -> Callable[[ApprovalRequest], Awaitable[ApprovalDecision]]:
        """The ``request_approval`` callable for one session's :class:`ToolContext`."""

        async def ask(request: ApprovalRequest) -> ApprovalDecision:
            return await self.request(request, agent_id=agent_id, session_key=session_key)

        return ask

    async def request(self, request: ApprovalRequest, *, agent_id: str, session_key: str) -> ApprovalDecision:
        """Allowed-always commands pass at once; otherwise wait for an operator, or deny."""
        if request.command and not request.force and self.store.contains(agent_id, request.command):
            return "allow-always"
        gateway = self._gateway()
        if gateway is None:
            logger.info("approval for {!r} denied: no gateway, so nobody can approve", request.description)
            return "deny"
        now = int(time.time() * 1000)
        pending = PendingApproval(
            id=secrets.token_hex(4),
            request=request,
            agent_id=agent_id,
            session_key=session_key,
            created_at_ms=now,
            expires_at_ms=now + int(self.timeout * 1000),
        )
        self._pending[pending.id] = pending
        logger.info("approval {} requested: {} [session={}]", pending.id, request.description, session_key)
        if not gateway.broadcast(REQUESTED, pending.to_json(), scope=SCOPE):
            # Nobody connected holds operator.approvals, and the id was shown to no one:
            # waiting out the timeout would only stall the turn before the same answer.
            self._finish(pending, "deny", reason="no-approver")
            return "deny"
        with trio.move_on_after(self.timeout) as expiry:
            try:
                await pending.done.wait()
            except BaseException:
                if pending.decision is None and not expiry.cancel_called:
                    self._finish(pending, "deny", reason="cancelled")
                raise
        if pending.decision is None:
            self._finish(pending, "deny", reason="expired")
        assert pending.decision is not None
        return pending.decision

    def resolve(self, approval_id: str, decision: ApprovalDecision) -> PendingApproval:
        """Answer a pending request; ``KeyError`` when it is unknown, answered or expired."""
        pending = self._pending.get(approval_id)
        if pending is None:
            raise KeyError(approval_id)
        if decision == "allow-always" and pending.request.command:
            self.store.add(pending.agent_id, pending.request.command)
        self._finish(pending, decision, reason="operator")
        return pending

    def _finish(self, pending: PendingApproval, decision: ApprovalDecision, *, reason: str) -> None:
        pending.decision = decision
        self._pending.pop(pending.id, None)
        logger.info("approval {}: {} ({})", pending.id, decision, reason)
        pending.done.set()
        gateway = self._gateway()
        if gateway is not None:
            gateway.broadcast(
                RESOLVED, {"id": pending.id, "decision": decision, "reason": reason}, scope=SCOPE
            )

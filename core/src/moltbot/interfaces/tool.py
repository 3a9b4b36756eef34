"""The agent-tool interface: a named, schema-described async function the model may call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import trio
from pydantic import BaseModel

ApprovalDecision = Literal["allow-once", "allow-always", "deny"]


@dataclass(frozen=True, kw_only=True)
class ApprovalRequest:
    """What a tool asks a human to approve (shown to operators as ``exec.approval.requested``)."""

    tool: str
    description: str
    """One line a human can judge, e.g. ``run `rm -rf build` in ~/clawd``."""
    command: str | None = None
    """The exact command line; an ``allow-always`` answer adds it to the persisted allowlist."""
    cwd: str | None = None
    force: bool = False
    """Ask even if the command was allowed always before (``ask: always``)."""


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """Where and for whom a tool call runs."""

    session_key: str
    agent_id: str
    workspace: Path
    sandboxed: bool
    """The session is sandboxed: paths are confined to ``workspace`` and commands run in bubblewrap."""
    request_approval: Callable[[ApprovalRequest], Awaitable[ApprovalDecision]] | None = None
    """Asks a human; ``None`` when nobody can approve (tools then deny)."""
    cancel_scope: trio.CancelScope | None = None
    """The scope that aborts this call. Trio delivers ``Cancelled`` at checkpoints, so tools need
    not poll it; they may read ``cancel_called`` before an irreversible step."""


@dataclass(frozen=True, kw_only=True)
class ToolResult:
    """What goes back to the model. ``is_error`` marks a failure the model should see."""

    text: str
    parts: tuple[dict[str, Any], ...] = field(default=())
    is_error: bool = False


class ToolError(Exception):
    """A failure to report to the model as a tool result, not to crash the agent loop."""


class Tool(ABC):
    """An action the agent can take.

    Invariants:
        ``name`` matches ``^[a-z][a-z0-9_]*$``; ``parameters`` is a pydantic model whose JSON
        Schema is sent to the model; ``run`` receives an already validated instance of it.

    Error handling:
        Raise :class:`ToolError` for failures the model should read; the invoker
        (:func:`moltbot.tools.invoke_tool`) turns any other exception into an error result too,
        but logs it as a bug.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[type[BaseModel]]
    group: ClassVar[str | None] = None
    """Policy group such as ``"group:fs"``; ``None`` if the tool belongs to none."""

    @abstractmethod
    async def run(self, ctx: ToolContext, params: Any) -> ToolResult | str:
        """Do the work; return text or a :class:`ToolResult`."""

"""The agent-tool interface: a named, schema-described async function the model may call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """Where and for whom a tool call runs."""

    session_key: str
    agent_id: str
    workspace: Path
    sandboxed: bool
    request_approval: Callable[[str], Awaitable[bool]] | None = None
    """Asks a human to approve ``description``; ``None`` when nobody can approve."""


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
        Raise :class:`ToolError` for failures the model should read; the agent loop turns any
        other exception into an error result too, but logs it as a bug.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[type[BaseModel]]
    group: ClassVar[str | None] = None
    """Policy group such as ``"group:fs"``; ``None`` if the tool belongs to none."""

    @abstractmethod
    async def run(self, ctx: ToolContext, params: Any) -> ToolResult | str:
        """Do the work; return text or a :class:`ToolResult`."""

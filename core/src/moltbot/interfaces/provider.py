"""The model-provider interface: stream a chat completion, with tool calls, from an LLM API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, kw_only=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ToolSchema:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ModelRequest:
    model: str
    """The provider's own model id (the part after ``provider/``)."""
    messages: tuple[ChatMessage, ...]
    system: str = ""
    tools: tuple[ToolSchema, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallEvent:
    call: ToolCall


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Done:
    stop_reason: Literal["end", "tool_calls", "max_tokens", "other"]


StreamEvent = TextDelta | ToolCallEvent | Usage | Done

ErrorKind = Literal[
    "auth",
    "billing",
    "rate_limit",
    "overloaded",
    "timeout",
    "context_overflow",
    "bad_request",
    "unknown",
]


@dataclass
class ProviderError(Exception):
    """A classified provider failure; the failover policy decides from ``kind`` what to do."""

    kind: ErrorKind
    message: str
    retry_after: float | None = None
    status: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class ModelProvider(ABC):
    """One configured model API (one base URL and credential set).

    Invariants:
        ``stream`` yields any number of :class:`TextDelta`, :class:`ToolCallEvent` and
        :class:`Usage` events and ends with exactly one :class:`Done`.

    Error handling:
        Every failure is raised as :class:`ProviderError` with its ``kind`` classified, so the
        failover policy in core never parses provider-specific errors.
    """

    @abstractmethod
    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Start a completion and yield its events as they arrive."""

    async def list_models(self) -> list[str]:
        """Model ids this provider offers; empty when it cannot tell."""
        return []

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Release connections."""

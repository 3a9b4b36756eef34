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
    raw_arguments: str | None = None
    """The model's argument text when it was not a JSON object (``arguments`` is then empty),
    so the agent loop can answer with a tool error instead of guessing."""


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
    """Tokens billed for one call, from the provider's own usage fields. ``input_tokens``
    excludes prompt tokens read from or written to the provider's cache, which are priced apart."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


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
    "network",
    "unknown",
]
"""``network``: the server could not be reached or dropped the connection before answering."""


@dataclass(frozen=True, kw_only=True)
class AuthProfile:
    """One credential of a provider; ``id`` looks like ``openai:default`` or ``openai:work``."""

    id: str
    api_key: str = field(default="", repr=False)


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
    def stream(self, request: ModelRequest, *, auth: AuthProfile | None = None) -> AsyncIterator[StreamEvent]:
        """Start a completion and yield its events as they arrive; ``auth`` picks the credential
        (default: the first of :meth:`auth_profiles`)."""

    def auth_profiles(self) -> list[AuthProfile]:
        """The credentials this provider may use, in rotation order; empty when it needs none."""
        return []

    async def list_models(self) -> list[str]:
        """Model ids this provider offers; empty when it cannot tell."""
        return []

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Release connections."""

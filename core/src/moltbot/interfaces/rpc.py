"""What a gateway RPC handler receives, and the error it raises to answer with ``ok: false``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class RpcError(Exception):
    """An error response: ``{code, message, details?, retryable?, retryAfterMs?}``."""

    code: str
    message: str
    details: dict[str, Any] | None = None
    retryable: bool = False
    retry_after_ms: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        if self.retryable:
            out["retryable"] = True
        if self.retry_after_ms is not None:
            out["retryAfterMs"] = self.retry_after_ms
        return out


@dataclass(frozen=True)
class Accepted:
    """Returned by a handler that answers twice on the same request id, as OpenClaw's ``agent``
    does: ``payload`` at once (``status: "accepted"``), then whatever ``final()`` returns (or
    the RpcError it raises) once the work is done."""

    payload: dict[str, Any]
    final: Callable[[], Awaitable[Any]]


class RpcContext(Protocol):
    """One call of a gateway method, as a handler sees it."""

    @property
    def method(self) -> str: ...

    @property
    def params(self) -> Any:
        """The request params: a dict, or the method's validated ``params`` model."""

    @property
    def app(self) -> Any:
        """The running :class:`moltbot.app.App` (config, plugins, subsystems)."""

    @property
    def conn_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def scopes(self) -> frozenset[str]: ...

    @property
    def idempotency_key(self) -> str | None:
        """The request's ``idempotencyKey`` (taken out of ``params``), if it sent one."""

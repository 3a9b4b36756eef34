"""The ``logs.tail`` gateway method: pages through the ring buffer of recent records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from moltbot.config.base import StrictModel
from moltbot.interfaces.rpc import RpcContext, RpcError


class TailParams(StrictModel):
    cursor: int | None = Field(None, ge=0)
    limit: int = Field(200, ge=1, le=5000)
    level: Literal["trace", "debug", "info", "warn", "warning", "error", "critical"] | None = None


async def logs_tail(ctx: RpcContext) -> dict[str, Any]:
    """``{cursor, lines, truncated, reset}``; each line is one JSON record, already redacted."""
    params: TailParams = ctx.params
    service = ctx.app.services.get("logs")
    if service is None:
        raise RpcError("UNAVAILABLE", "the logs service is not running in this gateway")
    return service.handle.ring.tail(params.cursor, params.limit, params.level)

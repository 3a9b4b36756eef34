"""The ``alerts.list`` gateway method: the persisted alert history, newest first."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from moltbot.config.base import StrictModel
from moltbot.interfaces.rpc import RpcContext
from moltbot.monitoring.history import AlertHistory


class AlertsListParams(StrictModel):
    limit: int = Field(50, ge=1, le=1000)


async def alerts_list(ctx: RpcContext) -> dict[str, Any]:
    app = ctx.app
    history = AlertHistory.for_state_dir(app.paths.state_dir, app.settings.monitoring.history_size)
    entries = history.entries()[::-1][: ctx.params.limit]
    monitor = app.services.get("monitor")
    return {"alerts": entries, "active": monitor.status()["active"] if monitor else {}}

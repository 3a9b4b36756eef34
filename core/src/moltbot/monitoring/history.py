"""A small persisted list of recent alerts (``<state>/monitoring/alerts.json``) for
``moltbot alerts list``; rewritten atomically so a crash leaves the previous list readable."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from moltbot.config.store import atomic_write
from moltbot.interfaces.alert_sink import Alert


def alert_dict(alert: Alert) -> dict[str, Any]:
    """The wire/JSON shape: the seed's ``Alert`` fields in camelCase plus ``state`` and ``time``."""
    return {
        "level": alert.level,
        "metric": alert.metric,
        "currentValue": alert.current_value,
        "threshold": alert.threshold,
        "message": alert.message,
        "state": alert.state,
        "time": alert.time.isoformat(),
    }


def alert_from_dict(data: dict[str, Any]) -> Alert:
    return Alert(
        level=data["level"],
        metric=data["metric"],
        current_value=float(data["currentValue"]),
        threshold=float(data["threshold"]),
        message=data["message"],
        state=data.get("state", "firing"),
        time=datetime.fromisoformat(data["time"]),
    )


class AlertHistory:
    def __init__(self, path: Path, size: int = 200) -> None:
        self.path = path
        self.size = size

    @classmethod
    def for_state_dir(cls, state_dir: Path, size: int = 200) -> AlertHistory:
        return cls(state_dir / "monitoring" / "alerts.json", size)

    def entries(self) -> list[dict[str, Any]]:
        """Oldest first; an unreadable file counts as empty (it is only a convenience log)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []

    def record(self, alert: Alert, deliveries: dict[str, str]) -> None:
        entries = [*self.entries(), {**alert_dict(alert), "deliveries": deliveries}][-self.size :]
        atomic_write(self.path, (json.dumps(entries, indent=1) + "\n").encode(), keep_backup=False)

"""Per-session choices that outlive a restart: model (``/model``), queue mode, label.

Kept apart from the transcripts in ``<state>/agents/<agentId>/session-settings.json`` (small,
rewritten atomically on each change, which happens only on a user command or
``sessions.patch``); an unreadable file is logged and treated as empty.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loguru import logger

from moltbot.config.store import atomic_write

FILE = "session-settings.json"
FIELDS = ("model", "queueMode", "label")


class SessionOverrides:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE
        self._data: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = (
                    {k: v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}
                )
            except FileNotFoundError:
                self._data = {}
            except (OSError, ValueError) as exc:
                logger.warning("{} is unreadable ({}); session overrides start empty", self.path, exc)
                self._data = {}
        return self._data

    def get(self, key: str) -> dict[str, Any]:
        return dict(self._load().get(key, {}))

    def value(self, key: str, name: str) -> Any:
        return self._load().get(key, {}).get(name)

    def update(self, key: str, **values: Any) -> dict[str, Any]:
        """Set (or, with ``None``, clear) fields of ``key``; writes the file (blocking, small)."""
        data = self._load()
        entry = data.setdefault(key, {})
        for name, value in values.items():
            if name not in FIELDS:
                raise KeyError(name)
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        if not entry:
            data.pop(key, None)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(
            self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), keep_backup=False
        )
        return dict(entry)

"""Webhook updates accepted (answered 200) but not yet handed to the router, on disk.

Telegram never resends an update it got a 200 for, so :meth:`TelegramChannel.accept` writes
each update here (one atomic file per ``update_id``) before answering, and removes it once the
router has it (the router's own journal and dedupe take over from there). The next ``run``
forwards whatever a crash left behind, in ``update_id`` order.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from loguru import logger

from moltbot.config.store import atomic_write


class UpdateSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, update_id: int) -> Path:
        return self.directory / f"{update_id}.json"

    def add(self, update: dict[str, Any]) -> None:
        atomic_write(self._path(int(update["update_id"])), json.dumps(update).encode(), keep_backup=False)

    def done(self, update: dict[str, Any]) -> None:
        with contextlib.suppress(FileNotFoundError, KeyError, TypeError, ValueError):
            os.unlink(self._path(int(update["update_id"])))

    def pending(self) -> list[dict[str, Any]]:
        """Spooled updates, oldest first; an unreadable file is renamed ``.bad`` and logged."""
        found: list[tuple[int, dict[str, Any]]] = []
        for path in self.directory.glob("*.json") if self.directory.is_dir() else ():
            try:
                update = json.loads(path.read_text(encoding="utf-8"))
                found.append((int(update["update_id"]), update))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                os.replace(path, path.with_suffix(".bad"))
                logger.error("telegram: unreadable spooled update {} set aside: {}", path.name, exc)
        return [update for _, update in sorted(found, key=lambda item: item[0])]

"""Accepted inbound messages whose agent run has not finished, on disk.

The dedupe log makes a redelivered message run once; this journal makes an accepted message run
at least once. The router writes a message here (atomically, one file each) before handing it to
the agent and removes it when the run has ended, so after a crash or a kill the channels service
finds what was accepted but never answered and submits it again. A file that cannot be read is
moved aside (``.bad``) and logged, never dropped silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from moltbot.config.store import atomic_write
from moltbot.interfaces.channel import InboundMessage, Media


def to_json(message: InboundMessage) -> dict[str, Any]:
    data = asdict(message)
    data["timestamp"] = message.timestamp.isoformat()
    return data


def from_json(data: dict[str, Any]) -> InboundMessage:
    fields = dict(data)
    fields["timestamp"] = datetime.fromisoformat(fields["timestamp"])
    fields["media"] = tuple(Media(**m) for m in fields.get("media") or ())
    fields["mentions"] = tuple(fields.get("mentions") or ())
    return InboundMessage(**fields)


class InboundJournal:
    """One JSON file per accepted, unfinished message in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def add(self, key: str, message: InboundMessage) -> None:
        """Record ``message`` under ``key`` (``<channel>:<account>:<message id>``), durably."""
        body = json.dumps({"key": key, "message": to_json(message)}, ensure_ascii=False)
        atomic_write(self._path(key), body.encode(), keep_backup=False)

    def done(self, key: str) -> None:
        """The run for ``key`` has ended (answered, failed or aborted): forget the message."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def pending(self) -> list[tuple[str, InboundMessage]]:
        """Messages accepted but not finished, oldest first."""
        found: list[tuple[str, InboundMessage]] = []
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else ():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                found.append((record["key"], from_json(record["message"])))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                bad = path.with_suffix(".bad")
                os.replace(path, bad)
                logger.error("channels: unreadable journal entry moved to {}: {}", bad, exc)
        return sorted(found, key=lambda item: item[1].timestamp)

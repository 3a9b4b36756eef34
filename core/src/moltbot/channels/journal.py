"""Accepted inbound messages whose agent run has not finished, on disk.

The dedupe log makes a redelivered message run once; this journal makes an accepted message run
at least once. The router records a message here before handing it to the agent and marks it
done when the run has ended, so after a crash or a kill the channels service finds what was
accepted but never answered and submits it again.

Storage is one append-only JSON-lines file: an ``add`` record (fsynced: one fsync per message)
and a ``done`` record (not fsynced: losing it only replays a finished run, whose reply the
outbound dedupe then holds back). The file is rewritten atomically with just the open entries
when it has grown past :data:`COMPACT_AFTER` lines. A torn last line (crash mid-append) and any
unreadable line are skipped and logged, never fatal.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from moltbot.config.store import atomic_write, ensure_private_dir
from moltbot.interfaces.channel import InboundMessage, Media

COMPACT_AFTER = 2000
"""Lines in the file before it is rewritten with only the unfinished entries."""


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
    """Unfinished messages by key, mirrored in the append-only file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open: dict[str, InboundMessage] = {}
        self._lines = 0
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        for number, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            self._lines += 1
            try:
                record = json.loads(line)
                if "done" in record:
                    self._open.pop(record["done"], None)
                else:
                    self._open[record["add"]] = from_json(record["message"])
            except (ValueError, KeyError, TypeError) as exc:
                logger.error("channels: skipping unreadable line {} of {}: {}", number, self.path, exc)

    def _append(self, record: dict[str, Any], *, sync: bool) -> None:
        ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, json.dumps(record, ensure_ascii=False).encode() + b"\n")
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
        if self._lines > COMPACT_AFTER:
            self._compact()

    def _compact(self) -> None:
        body = "".join(
            json.dumps({"add": key, "message": to_json(message)}, ensure_ascii=False) + "\n"
            for key, message in self._open.items()
        )
        atomic_write(self.path, body.encode(), keep_backup=False)
        self._lines = len(self._open)

    def add(self, key: str, message: InboundMessage) -> None:
        """Record ``message`` under ``key`` (``in:<channel>:<account>:<message id>``), durably."""
        self._open[key] = message
        self._append({"add": key, "message": to_json(message)}, sync=True)

    def done(self, key: str) -> None:
        """The run for ``key`` has ended (answered, failed or aborted): forget the message."""
        if self._open.pop(key, None) is not None:
            self._append({"done": key}, sync=False)

    def pending(self) -> list[tuple[str, InboundMessage]]:
        """Messages accepted but not finished, oldest first."""
        return sorted(self._open.items(), key=lambda item: item[1].timestamp)

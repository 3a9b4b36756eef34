"""Per-session metadata (the index row), derived entirely from the transcript's lines.

The same fold runs for live appends and for rebuilding the index after a crash, so a rebuilt
row is identical to one kept up to date append by append.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from moltbot.sessions.entries import Entry


@dataclass
class SessionMeta:
    key: str
    session_id: str
    created_at: str
    updated_at: str
    last_interaction_at: str | None = None
    """Last user/assistant message; system events (heartbeat, cron) do not extend freshness."""
    message_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    model: str | None = None
    channel: str | None = None
    chat_type: str | None = None
    compaction_count: int = 0
    previous_session_id: str | None = None
    bytes: int = 0
    """Transcript size this row reflects; a different size on disk means "refold the file"."""

    @classmethod
    def from_header(cls, header: Entry) -> SessionMeta:
        origin = header.get("origin") or {}
        return cls(
            key=header["key"],
            session_id=header["id"],
            created_at=header["createdAt"],
            updated_at=header["createdAt"],
            channel=origin.get("channel"),
            chat_type=origin.get("chatType"),
            previous_session_id=header.get("previousSessionId"),
        )

    def apply(self, entry: Entry) -> None:
        """Account for one transcript entry."""
        kind = entry.get("type")
        if timestamp := entry.get("timestamp"):
            self.updated_at = timestamp
        if kind == "message":
            self.message_count += 1
            if entry.get("role") in ("user", "assistant"):
                self.last_interaction_at = entry.get("timestamp") or self.last_interaction_at
            self.model = entry.get("model") or self.model
        elif kind == "usage":
            self.input_tokens += int(entry.get("inputTokens") or 0)
            self.output_tokens += int(entry.get("outputTokens") or 0)
            self.cost += float(entry.get("cost") or 0.0)
            self.model = entry.get("model") or self.model
        elif kind == "compaction":
            self.compaction_count += 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_json(self) -> dict[str, Any]:
        return {_camel(k): v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionMeta:
        """Raises ``KeyError``/``TypeError`` on a malformed row (the caller refolds the file)."""
        return cls(**{f.name: data[_camel(f.name)] for f in fields(cls) if _camel(f.name) in data})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

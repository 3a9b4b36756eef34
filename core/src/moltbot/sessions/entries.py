"""Transcript entry shapes: one JSON object per JSONL line, each with ``id`` and ``parentId``.

Line 1 of a transcript is the header ``{"type": "session", ...}``; every later line is an
entry. ``parentId`` links each entry to the one before it, so a transcript is a tree that is a
plain chain unless something branches it (OpenClaw's format, kept for familiarity).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any, Literal

TRANSCRIPT_VERSION = 1
Entry = dict[str, Any]
"""A decoded transcript line; ``type`` is one of ``ENTRY_TYPES``."""
ENTRY_TYPES = ("message", "toolResult", "compaction", "usage", "reset")
CONTEXT_TYPES = ("message", "toolResult")
"""Entry types that are sent to the model (the rest is bookkeeping)."""


def new_session_id() -> str:
    """A fresh session id: a UUID4, the only thing ever used to name a transcript file."""
    return str(uuid.uuid4())


def new_entry_id() -> str:
    return secrets.token_hex(6)


def header(*, session_id: str, key: str, created_at: datetime, **extra: Any) -> Entry:
    """The first line of a transcript; ``extra`` holds origin and ``previousSessionId``."""
    return {
        "type": "session",
        "version": TRANSCRIPT_VERSION,
        "id": session_id,
        "key": key,
        "createdAt": created_at.isoformat(),
        **{k: v for k, v in extra.items() if v is not None},
    }


def message(
    role: Literal["user", "assistant", "system"],
    content: str,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Entry:
    """A chat message; ``tool_calls`` is ``[{"id", "name", "arguments"}]`` for an assistant turn
    that calls tools. ``extra`` carries optional fields (``model``, ``channel``, ``sender``)."""
    entry: Entry = {"type": "message", "role": role, "content": content}
    if tool_calls:
        entry["toolCalls"] = tool_calls
    entry.update({k: v for k, v in extra.items() if v is not None})
    return entry


def tool_result(tool_call_id: str, name: str, content: str, *, is_error: bool = False) -> Entry:
    return {
        "type": "toolResult",
        "toolCallId": tool_call_id,
        "name": name,
        "content": content,
        "isError": is_error,
    }


def usage(*, model: str | None, input_tokens: int, output_tokens: int, cost: float | None = None) -> Entry:
    """Tokens (and cost in USD, when the provider's prices are known) of one model call."""
    return {
        "type": "usage",
        "model": model,
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "cost": cost,
    }


def compaction(summary: str, *, first_kept_entry_id: str | None, tokens_before: int) -> Entry:
    """Replaces every context entry before ``firstKeptEntryId`` with ``summary`` (``None``: all)."""
    return {
        "type": "compaction",
        "summary": summary,
        "firstKeptEntryId": first_kept_entry_id,
        "tokensBefore": tokens_before,
    }


def reset_marker(reason: str, next_session_id: str) -> Entry:
    """The last line of a transcript whose key moved on to ``next_session_id``."""
    return {"type": "reset", "reason": reason, "nextSessionId": next_session_id}


def estimate_tokens(entry: Entry) -> int:
    """A cheap token estimate (4 characters per token) for choosing compaction cut points."""
    size = len(entry.get("content") or "") + len(entry.get("summary") or "")
    for call in entry.get("toolCalls") or ():
        size += len(call.get("name", "")) + len(str(call.get("arguments", "")))
    return size // 4 + 4

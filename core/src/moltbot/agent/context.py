"""Turn a session's context view into the model's messages, and summarize for compaction.

Transcripts may hold an assistant tool call whose result never came (a run aborted or killed
mid-tool); providers reject such a history, so the missing result is filled in as an error.
"""

from __future__ import annotations

from collections.abc import Sequence

from moltbot.interfaces.provider import ChatMessage, ToolCall
from moltbot.sessions.entries import Entry

MISSING_RESULT = "(no result: the run ended before this tool call finished)"


def to_messages(entries: Sequence[Entry]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    open_calls: list[ToolCall] = []

    def close_open() -> None:
        for call in open_calls:
            messages.append(ChatMessage(role="tool", content=MISSING_RESULT, tool_call_id=call.id))
        open_calls.clear()

    for entry in entries:
        kind = entry.get("type")
        if kind == "toolResult":
            call_id = str(entry.get("toolCallId"))
            match = next((c for c in open_calls if c.id == call_id), None)
            if match is None:
                continue
            open_calls.remove(match)
            content = entry.get("content") or ""
            messages.append(ChatMessage(role="tool", content=content, tool_call_id=call_id))
            continue
        if kind != "message":
            continue
        close_open()
        role = entry.get("role")
        content = entry.get("content") or ""
        if role == "assistant":
            calls = tuple(
                ToolCall(
                    id=str(c.get("id")), name=str(c.get("name")), arguments=dict(c.get("arguments") or {})
                )
                for c in entry.get("toolCalls") or ()
            )
            if not content and not calls:
                continue
            messages.append(ChatMessage(role="assistant", content=content, tool_calls=calls))
            open_calls.extend(calls)
        elif role in ("user", "system"):
            messages.append(ChatMessage(role="user", content=content))
    close_open()
    return messages


def transcript_text(entries: Sequence[Entry], *, max_chars: int = 60_000) -> str:
    """A plain-text rendering of ``entries`` for the summarizer (newest kept when too long)."""
    lines = []
    for entry in entries:
        kind = entry.get("type")
        if kind == "message":
            line = f"{entry.get('role')}: {entry.get('content') or ''}"
            for call in entry.get("toolCalls") or ():
                line += f"\n  [called {call.get('name')} {call.get('arguments')}]"
            lines.append(line)
        elif kind == "toolResult":
            text = str(entry.get("content") or "")
            lines.append(f"tool {entry.get('name')}: {text[:1000]}")
    text = "\n".join(lines)
    return text[-max_chars:]


SUMMARY_SYSTEM = (
    "You compress conversations. Write a concise summary of the conversation below for the "
    "assistant that continues it: facts learned, decisions, open tasks, files touched, and the "
    "user's preferences. Plain text, no preamble."
)


def summary_prompt(previous: str | None, entries: Sequence[Entry], instructions: str | None) -> str:
    parts = []
    if previous:
        parts.append(f"Summary so far:\n{previous}")
    parts.append(f"Conversation to add:\n{transcript_text(entries)}")
    if instructions:
        parts.append(f"Focus: {instructions}")
    return "\n\n".join(parts)

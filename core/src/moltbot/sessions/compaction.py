"""Compaction storage: pick a cut point that keeps tool calls with their results, ask a
summarizer (the agent loop's model call) for a summary, and persist it as a ``compaction`` entry.

No lock is held while the summarizer runs: the cut is chosen on a snapshot, and entries appended
meanwhile stay after ``firstKeptEntryId``, so they remain in the context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from moltbot.sessions import entries as E
from moltbot.sessions.entries import Entry, estimate_tokens
from moltbot.sessions.session import Session

Summarizer = Callable[[str | None, list[Entry], str | None], Awaitable[str]]
"""``(previous summary, entries to summarize, instructions) -> new summary``."""

DEFAULT_KEEP_RECENT_TOKENS = 20_000


def safe_cut_points(entries: Sequence[Entry]) -> list[int]:
    """Indices where the context may start without orphaning a tool result: a message with no
    tool call still waiting for its result before it. A user message also closes calls whose
    result never came (an aborted run), so a crash mid-tool cannot block compaction forever."""
    points: list[int] = []
    open_calls: set[str] = set()
    for index, entry in enumerate(entries):
        kind = entry.get("type")
        if kind == "message" and entry.get("role") == "user":
            open_calls.clear()
        if kind == "message" and not open_calls:
            points.append(index)
        if kind == "message":
            open_calls.update(str(call.get("id")) for call in entry.get("toolCalls") or ())
        elif kind == "toolResult":
            open_calls.discard(str(entry.get("toolCallId")))
    return points


def choose_cut(entries: Sequence[Entry], keep_recent_tokens: int) -> int | None:
    """The index of the first entry to keep so that at least ``keep_recent_tokens`` stay.

    Among the safe cut points at or before that boundary, a user message (a turn start) is
    preferred. ``None`` when nothing before the recent part can be summarized.
    """
    kept, boundary = 0, len(entries)
    while boundary > 0 and kept < keep_recent_tokens:
        boundary -= 1
        kept += estimate_tokens(entries[boundary])
    candidates = [i for i in safe_cut_points(entries) if 0 < i <= boundary]
    if not candidates:
        return None
    turn_starts = [i for i in candidates if entries[i].get("role") == "user"]
    return (turn_starts or candidates)[-1]


async def compact(
    session: Session,
    summarize: Summarizer,
    *,
    keep_recent_tokens: int = DEFAULT_KEEP_RECENT_TOKENS,
    instructions: str | None = None,
) -> Entry | None:
    """Summarize the older part of ``session``'s context and persist the summary entry.

    Returns the stored ``compaction`` entry, or ``None`` when there was nothing to compact.
    """
    view = session.context()
    cut = choose_cut(view.entries, keep_recent_tokens)
    if cut is None:
        return None
    summary = await summarize(view.summary, view.entries[:cut], instructions)
    entry = E.compaction(summary, first_kept_entry_id=view.entries[cut]["id"], tokens_before=view.tokens)
    (stored,) = await session.append(entry)
    return stored

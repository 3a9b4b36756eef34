"""Split a long reply into messages a channel accepts, without breaking words or code fences.

A split prefers a paragraph break, then a line break, then a space; a word longer than the
limit is cut hard. When a split falls inside a fenced code block (```), the chunk closes the
fence and the next one reopens it with the same info string, so every message renders alone.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")


def _open_fence(text: str, fence: tuple[str, str] | None) -> tuple[str, str] | None:
    """The fence (marker, info) still open after ``text``, given the one open before it."""
    for line in text.split("\n"):
        match = _FENCE_RE.match(line)
        if not match:
            continue
        marker = match[1]
        if fence is None:
            fence = (marker, match[2].strip())
        elif marker[0] == fence[0][0] and len(marker) >= len(fence[0]) and not match[2].strip():
            fence = None
    return fence


def _cut(text: str, limit: int) -> int:
    """Where to end a chunk of at most ``limit`` characters of ``text``."""
    window = text[:limit]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at > limit // 3:
            return at + len(sep)
    return limit


def split_text(text: str, limit: int) -> list[str]:
    """``text`` as chunks of at most ``limit`` characters each (code fences kept balanced)."""
    if limit < 16:
        raise ValueError("a chunk limit below 16 characters cannot hold a reopened code fence")
    text = text.strip("\n")
    chunks: list[str] = []
    fence: tuple[str, str] | None = None
    while text:
        prefix = f"{fence[0]}{fence[1]}\n" if fence else ""
        room = limit - len(prefix)
        if len(text) <= room:
            chunk = prefix + text
            text = ""
        else:
            # Reserve room for a closing fence in case the chunk ends inside a code block.
            reserve = 4 + max(len(fence[0]) if fence else 3, 3)
            at = _cut(text, room - reserve)
            chunk, text = prefix + text[:at], text[at:]
        after = _open_fence(chunk, None)
        chunk = chunk.rstrip()
        if after is not None and text:
            chunk = f"{chunk}\n{after[0]}"
        fence = after if text else None
        if text and fence is None:
            text = text.lstrip("\n")
        chunks.append(chunk)
    return chunks

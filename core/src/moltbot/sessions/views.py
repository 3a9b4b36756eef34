"""Read-only views of the session files for the CLI: they work without a running gateway, take
no locks and change nothing on disk (a torn tail is reported, not set aside)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moltbot.sessions import transcript
from moltbot.sessions.entries import Entry
from moltbot.sessions.index import INDEX_FILE, SESSION_ID_RE, discover, fold, load_index
from moltbot.sessions.keys import parse_key
from moltbot.sessions.meta import SessionMeta


@dataclass(frozen=True)
class Found:
    """A transcript located by key or session id."""

    agent_id: str
    path: Path
    header: Entry
    current: bool
    """True when it is its key's current session (not an older one kept after a reset)."""


def agent_dirs(state_dir: Path) -> dict[str, Path]:
    """Agent id -> its sessions directory, for every agent that has one."""
    root = state_dir / "agents"
    if not root.is_dir():
        return {}
    return {d.name: d / "sessions" for d in sorted(root.iterdir()) if (d / "sessions").is_dir()}


def list_sessions(state_dir: Path, agent_id: str | None = None) -> list[tuple[str, SessionMeta]]:
    """``(agent id, metadata)`` of every key's current session, newest first."""
    rows: list[tuple[str, SessionMeta]] = []
    for agent, directory in agent_dirs(state_dir).items():
        if agent_id is None or agent == agent_id:
            current = discover(directory, load_index(directory / INDEX_FILE))
            rows.extend((agent, meta) for meta in current.values())
    return sorted(rows, key=lambda row: row[1].updated_at, reverse=True)


def resolve(state_dir: Path, ref: str) -> Found | None:
    """Find a session by key (its current session) or by session id (also older ones).

    Raises :class:`moltbot.sessions.InvalidSessionKey` when ``ref`` is neither.
    """
    dirs = agent_dirs(state_dir)
    if SESSION_ID_RE.match(ref):
        for agent, directory in dirs.items():
            path = directory / f"{ref}.jsonl"
            header = transcript.read_header(path) if path.exists() else None
            if header is not None:
                current = discover(directory, load_index(directory / INDEX_FILE)).get(header["key"])
                return Found(agent, path, header, current is not None and current.session_id == ref)
        return None
    agent = parse_key(ref).agent_id
    directory = dirs.get(agent)
    meta = discover(directory, load_index(directory / INDEX_FILE)).get(ref) if directory else None
    if directory is None or meta is None:
        return None
    path = directory / f"{meta.session_id}.jsonl"
    header = transcript.read_header(path)
    return Found(agent, path, header, True) if header else None


def inspect(found: Found) -> dict[str, Any]:
    """The seed's ``inspectSession``: existence, size, last modified, message and token counts,
    metadata, plus what crash recovery would find (torn tail, set-aside and unreadable lines)."""
    path = found.path
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        return {"sessionId": found.header["id"], "exists": False, "error": str(exc)}
    meta = fold(path, found.header)
    chunk = transcript.read_from(path)
    side = path.with_name(path.name + transcript.TORN_SUFFIX)
    return {
        "sessionId": meta.session_id,
        "key": meta.key,
        "agentId": found.agent_id,
        "current": found.current,
        "exists": True,
        "path": str(path),
        "size": stat.st_size,
        "lastModified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
        "messageCount": meta.message_count,
        "tokenCount": meta.total_tokens,
        "tornBytes": len(chunk.torn),
        "setAsideBytes": side.stat().st_size if side.exists() else 0,
        "unreadableLines": chunk.corrupt,
        "metadata": meta.to_json(),
    }


def read_entries(found: Found, limit: int | None = None) -> list[Entry]:
    """The transcript's entries after the header, the last ``limit`` of them when given."""
    entries = [e for e in transcript.read_from(found.path).entries if e.get("type") != "session"]
    return entries[-limit:] if limit else entries

"""The session index ``sessions.json``: key -> metadata of the key's current session.

The index is a cache of what the transcripts say, never the only copy: on open, every
transcript's header is read, the newest session per key is current, and a row whose recorded
size differs from the file is refolded from the transcript. So a missing, empty, corrupt or
outdated index (a crash between an append and the debounced index write) repairs itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from moltbot.config.store import atomic_write
from moltbot.sessions import transcript
from moltbot.sessions.entries import Entry
from moltbot.sessions.keys import InvalidSessionKey, parse_key
from moltbot.sessions.meta import SessionMeta

INDEX_FILE = "sessions.json"
INDEX_VERSION = 1
SESSION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def transcript_path(directory: Path, session_id: str) -> Path:
    """``<directory>/<session_id>.jsonl``; refuses anything that is not a generated id."""
    if not SESSION_ID_RE.match(session_id):
        raise ValueError(f"{session_id[:60]!r} is not a session id")
    return directory / f"{session_id}.jsonl"


def load_index(path: Path, *, repair: bool = False) -> dict[str, SessionMeta]:
    """The rows of ``sessions.json``; empty when it is missing, empty or unreadable.

    With ``repair`` an unreadable file is renamed to ``sessions.json.corrupt`` (kept for
    inspection) so the rebuilt index can take its place.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    if not raw.strip():
        return {}
    try:
        rows = json.loads(raw)["sessions"]
        return {key: SessionMeta.from_json(row) for key, row in rows.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.warning("{} is unreadable ({}); rebuilding it from the transcripts", path, exc)
        if repair:
            os.replace(path, path.with_name(path.name + ".corrupt"))
        return {}


def write_index(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    """Replace ``sessions.json`` with JSON ``rows`` atomically (a crash leaves old or new)."""
    document = {"version": INDEX_VERSION, "sessions": {k: rows[k] for k in sorted(rows)}}
    atomic_write(path, json.dumps(document, indent=1, ensure_ascii=False).encode(), keep_backup=False)


def read_headers(directory: Path) -> dict[str, Entry]:
    """Session id -> header of every transcript in ``directory`` with a valid header and key."""
    headers: dict[str, Entry] = {}
    for path in directory.glob("*.jsonl"):
        header = transcript.read_header(path)
        if header is None or header["id"] != path.stem or not SESSION_ID_RE.match(path.stem):
            logger.warning("{}: no valid session header; ignored", path)
            continue
        try:
            parse_key(header["key"])
        except InvalidSessionKey as exc:
            logger.warning("{}: {}; ignored", path, exc)
            continue
        headers[header["id"]] = header
    return headers


def current_headers(headers: dict[str, Entry]) -> dict[str, Entry]:
    """Key -> header of the key's current session: not succeeded by a reset, then the newest."""
    superseded = {(h["key"], h.get("previousSessionId")) for h in headers.values()}
    current: dict[str, Entry] = {}
    for header in headers.values():
        if (header["key"], header["id"]) in superseded:
            continue
        best = current.get(header["key"])
        if best is None or _created(header) > _created(best):
            current[header["key"]] = header
    return current


def _created(header: Entry) -> datetime:
    try:
        return datetime.fromisoformat(header["createdAt"])
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=datetime.now().astimezone().tzinfo)


def fold(path: Path, header: Entry) -> SessionMeta:
    """Metadata of a transcript computed from its lines, read-only (a torn tail is skipped)."""
    meta = SessionMeta.from_header(header)
    chunk = transcript.read_from(path)
    for entry in chunk.entries:
        if entry.get("type") != "session":
            meta.apply(entry)
    meta.bytes = chunk.end
    return meta


def discover(
    directory: Path, rows: dict[str, SessionMeta], refold: Callable[[Path, Entry], SessionMeta] = fold
) -> dict[str, SessionMeta]:
    """The current session of every key, reusing index ``rows`` that still match their file."""
    if not directory.is_dir():
        return {}
    result: dict[str, SessionMeta] = {}
    for key, header in current_headers(read_headers(directory)).items():
        path = transcript_path(directory, header["id"])
        row = rows.get(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        if row is not None and row.session_id == header["id"] and row.bytes == size:
            result[key] = row
        else:
            result[key] = refold(path, header)
    return result

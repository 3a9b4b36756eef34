"""Sessions: conversation keys, durable JSONL transcripts, the index, resets and compaction.

See docs/sessions.md for the on-disk layout and the crash-safety rules.
"""

from moltbot.sessions import entries
from moltbot.sessions.compaction import Summarizer, choose_cut, compact, safe_cut_points
from moltbot.sessions.keys import InvalidSessionKey, ParsedKey, derive_key, main_key, parse_key
from moltbot.sessions.meta import SessionMeta
from moltbot.sessions.session import ContextView, Session, local_now
from moltbot.sessions.store import SessionStore, sessions_dir

__all__ = [
    "ContextView",
    "InvalidSessionKey",
    "ParsedKey",
    "Session",
    "SessionMeta",
    "SessionStore",
    "Summarizer",
    "choose_cut",
    "compact",
    "derive_key",
    "entries",
    "local_now",
    "main_key",
    "parse_key",
    "safe_cut_points",
    "sessions_dir",
]

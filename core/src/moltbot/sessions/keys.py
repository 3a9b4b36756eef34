"""Session keys: which conversation a message belongs to (``agent:<agentId>:<channel>:dm:<peer>``).

Keys name conversations and are never used as file names (transcripts are named by generated
session ids), but they are still validated so that a hostile peer id cannot smuggle separators,
path characters or control characters into logs, the index or the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from moltbot.config.model import SessionConfig
from moltbot.interfaces.channel import InboundMessage

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_PART_RE = re.compile(r"^[A-Za-z0-9@+=._~%-]{1,1024}$")
_SAFE = "@+=._-"
ChatKind = Literal["main", "dm", "group", "other"]


class InvalidSessionKey(ValueError):
    """A session key (or a part of one) that moltbot refuses to use."""


@dataclass(frozen=True)
class ParsedKey:
    """The parts of a valid key; ``chat`` says which kind of conversation it names."""

    agent_id: str
    chat: ChatKind
    channel: str | None = None
    peer: str | None = None
    """The DM peer or the group id."""
    thread: str | None = None


def encode_part(raw: str) -> str:
    """A peer, group or thread id made safe for a key: anything outside ``[A-Za-z0-9@+=._~-]``
    (``:``, ``/``, spaces...) is percent-encoded, so ``@bob:matrix.org`` stays distinct."""
    if not raw:
        raise InvalidSessionKey("an empty id cannot be part of a session key")
    encoded = quote(raw, safe=_SAFE)
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    if len(encoded) > 1024:
        raise InvalidSessionKey(f"{raw[:40]!r}... is too long to be part of a session key")
    return encoded


def _name(kind: str, value: str) -> str:
    if not _NAME_RE.match(value):
        raise InvalidSessionKey(f"{kind} {value!r} must be lowercase letters, digits, '_' or '-'")
    return value


def main_key(agent_id: str, config: SessionConfig) -> str:
    """The owner's main session of ``agent_id`` (``agent:<id>:main``)."""
    return f"agent:{_name('agent id', agent_id)}:{config.main_key}"


def derive_key(message: InboundMessage, config: SessionConfig, *, agent_id: str = "main") -> str:
    """The session key for an inbound message under ``session.dmScope``.

    Groups always get their own session (plus ``:thread:<id>`` for threads/topics); DMs follow
    ``dmScope``: ``per-channel-peer`` (default) ``agent:<id>:<channel>:dm:<peer>``, ``per-peer``
    ``agent:<id>:dm:<peer>``, ``per-account-channel-peer`` adds the account, ``main`` shares the
    owner's main session.
    """
    agent = _name("agent id", agent_id)
    channel = _name("channel", message.channel)
    if message.chat_type == "group":
        key = f"agent:{agent}:{channel}:group:{encode_part(message.chat_id)}"
    elif config.dm_scope == "main":
        return main_key(agent, config)
    else:
        peer = encode_part(message.sender)
        key = {
            "per-peer": f"agent:{agent}:dm:{peer}",
            "per-channel-peer": f"agent:{agent}:{channel}:dm:{peer}",
            "per-account-channel-peer": (
                f"agent:{agent}:{channel}:{_name('account', message.account)}:dm:{peer}"
            ),
        }[config.dm_scope]
    if message.thread_id:
        key += f":thread:{encode_part(message.thread_id)}"
    return key


def parse_key(key: str) -> ParsedKey:
    """Validate ``key`` and split it; raises :class:`InvalidSessionKey` with the reason."""
    parts = key.split(":")
    if len(parts) < 3 or parts[0] != "agent":
        raise InvalidSessionKey(f"{key[:80]!r} is not a session key (expected agent:<agentId>:...)")
    agent = _name("agent id", parts[1])
    for part in parts[2:]:
        if not _PART_RE.match(part) or part in (".", ".."):
            raise InvalidSessionKey(f"{key[:80]!r} has a forbidden part {part[:40]!r}")
    rest = parts[2:]
    thread = None
    if len(rest) >= 2 and rest[-2] == "thread":
        thread, rest = rest[-1], rest[:-2]
    if len(rest) == 1:
        return ParsedKey(agent, "main" if not thread else "other", thread=thread)
    if len(rest) == 2 and rest[0] == "dm":
        return ParsedKey(agent, "dm", peer=rest[1], thread=thread)
    if len(rest) in (3, 4) and rest[-2] in ("dm", "group"):
        chat: ChatKind = "dm" if rest[-2] == "dm" else "group"
        return ParsedKey(agent, chat, channel=rest[0], peer=rest[-1], thread=thread)
    return ParsedKey(agent, "other", thread=thread)

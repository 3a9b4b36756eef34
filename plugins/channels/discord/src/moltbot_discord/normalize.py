"""Gateway ``MESSAGE_CREATE`` payloads to :class:`moltbot.InboundMessage`.

Discord ids are snowflakes, unique across the whole platform, so a message's id is its own
normalized id and a reply needs nothing else. DMs have no ``guild_id``; in a guild the chat is
the channel (a thread is a channel too). User mentions arrive as ``<@id>`` (or ``<@!id>``) in
``content``; they are rewritten to ``@username`` so the agent reads names, not numbers.
Attachments keep their CDN URL here; the channel downloads them afterwards
(:mod:`moltbot_discord.media`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import moltbot

_MENTION_RE = re.compile(r"<@!?(\d+)>")
HANDLED_TYPES = frozenset({0, 19})
"""DEFAULT and REPLY; the other message types are system notices (joins, pins, boosts)."""

Kind = Literal["image", "audio", "video", "document"]


def media_kind(content_type: str | None) -> Kind:
    """The :class:`moltbot.Media` kind for an attachment's ``content_type``."""
    major = (content_type or "").split("/", 1)[0]
    if major == "image":
        return "image"
    if major == "audio":
        return "audio"
    if major == "video":
        return "video"
    return "document"


def plain_url(url: str) -> str:
    """An attachment URL without its signed query (``ex``, ``is``, ``hm``): a stable name."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def is_from_a_bot(message: dict[str, Any], bot_id: str) -> bool:
    """Bots (this one included) and webhooks are never answered: two bots would talk forever."""
    author = message.get("author") or {}
    return bool(author.get("bot")) or str(author.get("id")) == bot_id or bool(message.get("webhook_id"))


def _display(user: dict[str, Any]) -> str | None:
    return user.get("global_name") or user.get("username")


def normalize(
    message: dict[str, Any], *, channel: str, account: str, bot_id: str
) -> moltbot.InboundMessage | None:
    """The message, or None for what moltbot does not answer (bots, system messages, empty)."""
    if is_from_a_bot(message, bot_id) or message.get("type", 0) not in HANDLED_TYPES:
        return None
    author = message["author"]
    names = {str(u["id"]): u.get("username") or str(u["id"]) for u in message.get("mentions") or []}
    content = _MENTION_RE.sub(
        lambda m: f"@{names[m[1]]}" if m[1] in names else m[0], message.get("content") or ""
    )
    media = tuple(
        moltbot.Media(
            kind=media_kind(item.get("content_type")),
            ref=plain_url(item["url"]),
            mime_type=item.get("content_type"),
            caption=item.get("description"),
        )
        for item in message.get("attachments") or []
    )
    if not content and not media:
        return None
    referenced = message.get("referenced_message") or {}
    replied_to_bot = str((referenced.get("author") or {}).get("id")) == bot_id
    reply_to = referenced.get("id") or (message.get("message_reference") or {}).get("message_id")
    return moltbot.InboundMessage(
        channel=channel,
        account=account,
        sender=str(author["id"]),
        sender_name=_display(author),
        chat_type="group" if message.get("guild_id") else "dm",
        chat_id=str(message["channel_id"]),
        text=content,
        message_id=str(message["id"]),
        timestamp=datetime.fromisoformat(message["timestamp"]),
        media=media,
        mentions=tuple(f"@{name}" for name in names.values()),
        mentions_bot=bot_id in names or replied_to_bot,
        reply_to=str(reply_to) if reply_to else None,
    )

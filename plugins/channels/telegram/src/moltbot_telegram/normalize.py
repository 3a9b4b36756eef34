"""Telegram ``Update`` objects to :class:`moltbot.InboundMessage`.

Message ids are only unique within a chat, so the normalized id is ``<chat id>:<message id>``
(:func:`reply_target` turns it back). Entity offsets count UTF-16 code units, as the Bot API
documents, so mentions are cut from the UTF-16 encoding of the text. Attachments keep their
file ids here; the channel downloads them afterwards (:mod:`moltbot_telegram.media`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import moltbot
from moltbot_telegram.media import attachments


def _utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


def reply_target(message_id: str | None) -> int | None:
    """The Bot API ``message_id`` inside a normalized id, if it is one."""
    if not message_id:
        return None
    tail = message_id.rsplit(":", 1)[-1]
    return int(tail) if tail.lstrip("-").isdigit() else None


def _media(message: dict[str, Any]) -> tuple[moltbot.Media, ...]:
    caption = message.get("caption")
    return tuple(
        moltbot.Media(kind=a.kind, ref=a.file_id, mime_type=a.mime_type, caption=caption)
        for a in attachments(message)
    )


def normalize(
    update: dict[str, Any],
    *,
    channel: str,
    bot_id: int,
    bot_username: str | None,
    account: str = "default",
) -> moltbot.InboundMessage | None:
    """The message inside ``update``, or None for updates moltbot does not handle (edits,
    channel posts, service messages, other bots)."""
    message = update.get("message")
    if not isinstance(message, dict) or "chat" not in message:
        return None
    sender = message.get("from") or {}
    if not sender or sender.get("is_bot"):
        return None
    text = message.get("text") or message.get("caption") or ""
    entities = message.get("entities") or message.get("caption_entities") or []
    mentions: list[str] = []
    mentioned = False
    for entity in entities:
        if entity.get("type") == "mention":
            name = _utf16_slice(text, entity["offset"], entity["length"])
            mentions.append(name)
            mentioned |= bool(bot_username) and name.lower() == f"@{bot_username}".lower()
        elif entity.get("type") == "text_mention" and (entity.get("user") or {}).get("id") == bot_id:
            mentioned = True
    reply = message.get("reply_to_message") or {}
    mentioned |= (reply.get("from") or {}).get("id") == bot_id
    media = _media(message)
    if not text and not media:
        return None
    chat = message["chat"]
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p) or sender.get(
        "username"
    )
    return moltbot.InboundMessage(
        channel=channel,
        account=account,
        sender=str(sender["id"]),
        sender_name=name,
        chat_type="dm" if chat.get("type") == "private" else "group",
        chat_id=str(chat["id"]),
        text=text,
        message_id=f"{chat['id']}:{message['message_id']}",
        timestamp=datetime.fromtimestamp(message.get("date", 0), UTC),
        media=media,
        mentions=tuple(mentions),
        mentions_bot=mentioned,
        reply_to=f"{chat['id']}:{reply['message_id']}" if reply.get("message_id") else None,
        thread_id=str(message["message_thread_id"]) if message.get("is_topic_message") else None,
    )

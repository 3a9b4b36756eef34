"""Cloud API webhook payloads to :class:`moltbot.InboundMessage` and delivery statuses.

A delivery is ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
"messages", "value": {"metadata": {"phone_number_id"}, "contacts", "messages"?, "statuses"?}}]}]}``.
Reactions become a message whose text is ``[reaction <emoji>]`` replying to the reacted message;
removing a reaction (empty emoji), unsupported and system messages are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import moltbot

_MEDIA_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
}


@dataclass(frozen=True)
class Status:
    """A ``statuses[]`` item: what happened to a message we sent."""

    message_id: str
    status: str
    recipient: str
    errors: tuple[str, ...] = ()


def _text(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "reaction":
        emoji = (message.get("reaction") or {}).get("emoji")
        return f"[reaction {emoji}]" if emoji else None
    if kind == "button":
        return str((message.get("button") or {}).get("text") or "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title") or "")
    if kind == "location":
        loc = message.get("location") or {}
        label = " ".join(str(loc[k]) for k in ("name", "address") if loc.get(k))
        return f"[location {loc.get('latitude')},{loc.get('longitude')}{' ' + label if label else ''}]"
    if kind in _MEDIA_KINDS:
        return str((message.get(kind) or {}).get("caption") or "")
    return None


def _message(channel: str, message: dict[str, Any], names: dict[str, str]) -> moltbot.InboundMessage | None:
    text = _text(message)
    if text is None:
        return None
    kind = message["type"]
    media: tuple[moltbot.Media, ...] = ()
    if kind in _MEDIA_KINDS:
        item = message.get(kind) or {}
        media = (
            moltbot.Media(
                kind=_MEDIA_KINDS[kind],
                ref=str(item.get("id")),
                mime_type=item.get("mime_type"),
                caption=item.get("caption"),
            ),
        )
    reply_to = (message.get("context") or {}).get("id")
    if kind == "reaction":
        reply_to = (message.get("reaction") or {}).get("message_id")
    sender = str(message["from"])
    return moltbot.InboundMessage(
        channel=channel,
        sender=sender,
        sender_name=names.get(sender),
        chat_id=sender,
        text=text,
        message_id=str(message["id"]),
        timestamp=datetime.fromtimestamp(int(message.get("timestamp", 0)), UTC),
        media=media,
        reply_to=reply_to,
    )


def parse_delivery(
    payload: Any, *, channel: str, phone_number_id: str
) -> tuple[list[moltbot.InboundMessage], list[Status]]:
    """Messages and statuses in ``payload`` addressed to ``phone_number_id`` (others ignored)."""
    messages: list[moltbot.InboundMessage] = []
    statuses: list[Status] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise ValueError("not a whatsapp_business_account webhook delivery")
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if (
                change.get("field") != "messages"
                or (value.get("metadata") or {}).get("phone_number_id") != phone_number_id
            ):
                continue
            names = {
                str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []
            }
            for raw in value.get("messages") or []:
                message = _message(channel, raw, names)
                if message is not None:
                    messages.append(message)
            for raw in value.get("statuses") or []:
                errors = tuple(f"{e.get('code')}: {e.get('title')}" for e in raw.get("errors") or [])
                statuses.append(
                    Status(str(raw.get("id")), str(raw.get("status")), str(raw.get("recipient_id")), errors)
                )
    return messages, statuses

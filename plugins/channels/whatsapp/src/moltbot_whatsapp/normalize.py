"""Cloud API webhook payloads to :class:`moltbot.InboundMessage` and delivery statuses.

A delivery is ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
"messages", "value": {"metadata": {"display_phone_number", "phone_number_id"}, "contacts",
"messages"?, "statuses"?}}]}]}``; :func:`message_changes` yields each ``messages`` change with
the phone number id it is addressed to, and :func:`parse_change` turns one into messages.

Text, captions, button and list replies (their titles), locations and shared contacts become
readable text; reactions become ``[reaction <emoji>]`` replying to the reacted message;
removing a reaction (empty emoji), unsupported and system messages are skipped. A message with
``group_id`` (the Groups API) is a group message whose ``from`` is the participant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import moltbot

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


@dataclass(frozen=True)
class Status:
    """A ``statuses[]`` item: what happened to a message we sent."""

    message_id: str
    status: str
    recipient: str
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """What the webhook says about one media item; the download needs all of it."""

    kind: str
    media_id: str
    mime_type: str | None
    sha256: str | None
    filename: str | None
    caption: str | None


@dataclass(frozen=True)
class Received:
    """A normalized message plus the attachment it carries (media ref = the media id)."""

    message: moltbot.InboundMessage
    attachment: Attachment | None = None


def attachment_of(message: moltbot.InboundMessage) -> Attachment | None:
    """The attachment of a journaled message (its ref is still the media id); the webhook's
    ``sha256`` and document file name were not journaled, so the Graph API's hash is used and
    the file is named after the media id."""
    if not message.media:
        return None
    media = message.media[0]
    return Attachment(media.kind, media.ref, media.mime_type, None, None, media.caption)


def _contact(card: dict[str, Any]) -> str:
    name = (card.get("name") or {}).get("formatted_name") or ""
    phones = [str(p.get("phone") or p.get("wa_id")) for p in card.get("phones") or [] if p]
    emails = [str(e.get("email")) for e in card.get("emails") or [] if e and e.get("email")]
    return "[contact " + " ".join(part for part in (name, *phones, *emails) if part) + "]"


def _location(loc: dict[str, Any]) -> str:
    label = " ".join(str(loc[k]) for k in ("name", "address") if loc.get(k))
    return f"[location {loc.get('latitude')},{loc.get('longitude')}{' ' + label if label else ''}]"


def _text(message: dict[str, Any]) -> str | None:
    """The message as text, or None for kinds the agent cannot use."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "reaction":
        emoji = (message.get("reaction") or {}).get("emoji")
        return f"[reaction {emoji}]" if emoji else None
    if kind == "button":
        return str((message.get("button") or {}).get("text") or "") or None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title") or "") or None
    if kind == "location":
        return _location(message.get("location") or {})
    if kind == "contacts":
        cards = [_contact(c) for c in message.get("contacts") or [] if isinstance(c, dict)]
        return "\n".join(cards) or None
    if kind in MEDIA_KINDS:
        return str((message.get(kind) or {}).get("caption") or "")
    return None


def _mentions_bot(message: dict[str, Any], text: str, own_number: str) -> bool:
    """A reply to one of our messages, or ``@<our number>`` in the text (how WhatsApp writes a
    mention into the body; the Cloud API has no separate mentions field)."""
    if not own_number:
        return False
    return (message.get("context") or {}).get("from") == own_number or f"@{own_number}" in text


def _received(
    channel: str, account: str, message: dict[str, Any], names: dict[str, str], own_number: str
) -> Received | None:
    text = _text(message)
    if text is None:
        return None
    kind = message["type"]
    attachment = None
    media: tuple[moltbot.Media, ...] = ()
    if kind in MEDIA_KINDS:
        item = message.get(kind) or {}
        attachment = Attachment(
            kind=kind,
            media_id=str(item.get("id")),
            mime_type=item.get("mime_type"),
            sha256=item.get("sha256"),
            filename=item.get("filename"),
            caption=item.get("caption"),
        )
        media = (
            moltbot.Media(
                kind=kind, ref=attachment.media_id, mime_type=attachment.mime_type, caption=attachment.caption
            ),
        )
    reply_to = (message.get("context") or {}).get("id")
    if kind == "reaction":
        reply_to = (message.get("reaction") or {}).get("message_id")
    sender = str(message["from"]).lstrip("+")
    group = message.get("group_id")
    inbound = moltbot.InboundMessage(
        channel=channel,
        account=account,
        sender=sender,
        sender_name=names.get(sender),
        chat_type="group" if group else "dm",
        chat_id=str(group) if group else sender,
        text=text,
        message_id=str(message["id"]),
        timestamp=datetime.fromtimestamp(int(message.get("timestamp", 0)), UTC),
        media=media,
        reply_to=reply_to,
        mentions_bot=bool(group) and _mentions_bot(message, text, own_number),
    )
    return Received(inbound, attachment)


def message_changes(payload: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(phone_number_id, value)`` for every ``messages`` change; raises ValueError when
    ``payload`` is not a WhatsApp Business Account delivery."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise ValueError("not a whatsapp_business_account webhook delivery")
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") == "messages":
                yield str((value.get("metadata") or {}).get("phone_number_id")), value


def parse_change(value: dict[str, Any], *, channel: str, account: str) -> tuple[list[Received], list[Status]]:
    """The messages and statuses of one ``messages`` change."""
    own_number = str((value.get("metadata") or {}).get("display_phone_number") or "").lstrip("+")
    names = {str(c.get("wa_id")): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
    received = [
        item
        for raw in value.get("messages") or []
        if (item := _received(channel, account, raw, names, own_number)) is not None
    ]
    statuses = [
        Status(
            str(raw.get("id")),
            str(raw.get("status")),
            str(raw.get("recipient_id")),
            tuple(f"{e.get('code')}: {e.get('title')}" for e in raw.get("errors") or []),
        )
        for raw in value.get("statuses") or []
    ]
    return received, statuses

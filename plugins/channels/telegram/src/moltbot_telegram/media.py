"""Inbound attachments: which ones a message carries, and fetching them into the workspace.

A file id is useless to the agent, so each attachment is resolved with ``getFile``, downloaded
(bots may fetch up to 20 MB) and stored with :func:`moltbot.channels.media.save_inbound`; its
:attr:`moltbot.Media.ref` becomes the workspace-relative path the file tools can open. When
that fails the message still goes through: the ref stays the file id and the text says why
the attachment is missing. The download URL holds the bot token, so no error text here is
built from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any, Literal

import trio
from loguru import logger

import moltbot
from moltbot.channels.media import MAX_INBOUND_BYTES, MediaTooLarge, megabytes, save_inbound
from moltbot_telegram.api import BotApi, TelegramError

Kind = Literal["image", "audio", "video", "document", "sticker"]
_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("document", "document"),
    ("audio", "audio"),
    ("voice", "audio"),
    ("video", "video"),
    ("video_note", "video"),
    ("sticker", "sticker"),
)


@dataclass(frozen=True)
class Attachment:
    """One file of a Telegram message, as the update describes it."""

    field: str
    kind: Kind
    file_id: str
    mime_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None


def attachments(message: dict[str, Any]) -> list[Attachment]:
    """The files in ``message``; of a photo's sizes only the largest."""
    found: list[Attachment] = []
    if message.get("photo"):
        largest = max(message["photo"], key=lambda p: p.get("width", 0) * p.get("height", 0))
        found.append(
            Attachment("photo", "image", largest["file_id"], "image/jpeg", None, largest.get("file_size"))
        )
    for key, kind in _FIELDS:
        item = message.get(key)
        if isinstance(item, dict) and item.get("file_id"):
            found.append(
                Attachment(
                    key,
                    kind,
                    item["file_id"],
                    item.get("mime_type"),
                    item.get("file_name"),
                    item.get("file_size"),
                )
            )
    return found


class NotDownloaded(Exception):
    """Why an attachment stays a file id (shown to the agent and logged; never holds a URL)."""


async def fetch(api: BotApi, item: Attachment, *, settings: Any, channel: str) -> str:
    """Download ``item`` and store it; its workspace-relative path."""
    too_big = f"the file is too big for bots to download (the limit is {megabytes(MAX_INBOUND_BYTES)})"
    if item.file_size is not None and item.file_size > MAX_INBOUND_BYTES:
        raise NotDownloaded(f"{too_big}; it has {megabytes(item.file_size)}")
    try:
        info = await api.call("getFile", {"file_id": item.file_id})
        path = info.get("file_path")
        if not path:
            raise NotDownloaded("Telegram gave no file_path for it")
        data = await api.download(path, limit=MAX_INBOUND_BYTES)
        name = item.file_name or f"{item.field}-{PurePosixPath(path).name}"
        return await trio.to_thread.run_sync(save_inbound, settings, channel, name, data)
    except TelegramError as exc:
        if "too big" in exc.description:
            raise NotDownloaded(too_big) from None
        raise NotDownloaded(api.redact(exc.description)) from None
    except MediaTooLarge:
        raise NotDownloaded(too_big) from None
    except (ConnectionError, OSError) as exc:
        raise NotDownloaded(api.redact(str(exc))) from None


async def localize(
    message: moltbot.InboundMessage, raw: dict[str, Any], api: BotApi, *, settings: Any, label: str
) -> moltbot.InboundMessage:
    """``message`` with each attachment's ref replaced by its stored copy where possible."""
    media: list[moltbot.Media] = []
    notes: list[str] = []
    for item, attachment in zip(message.media, attachments(raw), strict=True):
        try:
            ref = await fetch(api, attachment, settings=settings, channel=message.channel)
        except NotDownloaded as exc:
            logger.warning("{}: {} {} was not downloaded: {}", label, attachment.field, item.ref, exc)
            notes.append(f"[the {attachment.field} attachment was not downloaded: {exc}]")
            media.append(item)
        else:
            media.append(replace(item, ref=ref))
    text = "\n".join(part for part in (message.text, *notes) if part)
    # the caption is the message's text; keep them equal so it is not shown twice
    media = [replace(m, caption=text) if m.caption and m.caption == message.text else m for m in media]
    return replace(message, media=tuple(media), text=text)

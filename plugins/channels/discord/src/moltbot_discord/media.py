"""Inbound attachments: fetched from Discord's CDN into the agent workspace.

Each attachment of a ``MESSAGE_CREATE`` has a signed CDN ``url``, a ``filename`` and a
``size``. It is downloaded (no token is sent: the CDN needs none) and stored with
:func:`moltbot.channels.media.save_inbound`; its :attr:`moltbot.Media.ref` becomes the
workspace-relative path the file tools can open. When that fails the message still goes
through: the ref stays the attachment's URL (without its signature) and the text says why.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import trio
from loguru import logger

import moltbot
from moltbot.channels.media import MAX_INBOUND_BYTES, MediaTooLarge, megabytes, save_inbound
from moltbot_discord.rest import DiscordError, DiscordRest


class NotDownloaded(Exception):
    """Why an attachment stays a URL (shown to the agent and logged)."""


async def fetch(rest: DiscordRest, item: dict[str, Any], *, settings: Any, channel: str) -> str:
    """Download attachment ``item`` and store it; its workspace-relative path."""
    too_big = f"the file is larger than the {megabytes(MAX_INBOUND_BYTES)} moltbot keeps"
    size = item.get("size")
    if isinstance(size, int) and size > MAX_INBOUND_BYTES:
        raise NotDownloaded(f"{too_big}; it has {megabytes(size)}")
    try:
        data = await rest.download(item["url"], limit=MAX_INBOUND_BYTES)
        name = item.get("filename") or f"attachment-{item.get('id')}"
        return await trio.to_thread.run_sync(save_inbound, settings, channel, name, data)
    except MediaTooLarge:
        raise NotDownloaded(too_big) from None
    except DiscordError as exc:
        raise NotDownloaded(exc.message) from None
    except (ConnectionError, OSError) as exc:
        raise NotDownloaded(str(exc)) from None


async def localize(
    message: moltbot.InboundMessage, raw: dict[str, Any], rest: DiscordRest, *, settings: Any, label: str
) -> moltbot.InboundMessage:
    """``message`` with each attachment's ref replaced by its stored copy where possible."""
    media: list[moltbot.Media] = []
    notes: list[str] = []
    for item, attachment in zip(message.media, raw.get("attachments") or [], strict=True):
        try:
            ref = await fetch(rest, attachment, settings=settings, channel=message.channel)
        except NotDownloaded as exc:
            name = attachment.get("filename") or item.ref
            logger.warning("{}: attachment {} was not downloaded: {}", label, name, exc)
            notes.append(f"[the attachment {name} was not downloaded: {exc}]")
            media.append(item)
        else:
            media.append(replace(item, ref=ref))
    text = "\n".join(part for part in (message.text, *notes) if part)
    return replace(message, media=tuple(media), text=text)

"""Inbound files: fetching what a message shares into the agent workspace.

A Slack file id is useless to the agent, so each file is looked up with ``files.info``, its
``url_private_download`` fetched with the bot token in the ``Authorization`` header, and stored
with :func:`moltbot.channels.media.save_inbound`; its :attr:`moltbot.Media.ref` becomes the
workspace-relative path the file tools can open. When that fails the message still goes
through: the ref stays the file id and the text says why the file is missing. No note or log
line here is built from a URL or a header, so the token cannot leak.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import trio
from loguru import logger

import moltbot
from moltbot.channels.media import MAX_INBOUND_BYTES, MediaTooLarge, megabytes, save_inbound
from moltbot_slack.api import SlackError, WebApi


class NotDownloaded(Exception):
    """Why a file stays a file id (shown to the agent and logged; never holds a URL)."""


async def fetch(api: WebApi, file_id: str, *, settings: Any, channel: str) -> str:
    """Download Slack file ``file_id`` and store it; its workspace-relative path."""
    too_big = f"the file is bigger than {megabytes(MAX_INBOUND_BYTES)}"
    try:
        info = (await api.call("files.info", {"file": file_id}))["file"]
        size = int(info.get("size") or 0)
        if size > MAX_INBOUND_BYTES:
            raise NotDownloaded(f"{too_big} ({megabytes(size)})")
        url = info.get("url_private_download") or info.get("url_private")
        if not url:
            raise NotDownloaded(f"Slack offers no download for it (mode {info.get('mode', 'unknown')})")
        mime = str(info.get("mimetype") or "")
        data = await api.download(url, limit=MAX_INBOUND_BYTES, html_ok=mime == "text/html")
        name = str(info.get("name") or f"{file_id}.{info.get('filetype') or 'bin'}")
        return await trio.to_thread.run_sync(save_inbound, settings, channel, name, data)
    except SlackError as exc:
        raise NotDownloaded(exc.error) from None
    except MediaTooLarge:
        raise NotDownloaded(too_big) from None
    except (ConnectionError, OSError, KeyError, TypeError, ValueError) as exc:
        raise NotDownloaded(type(exc).__name__) from None


async def localize(
    message: moltbot.InboundMessage, api: WebApi, *, settings: Any, label: str
) -> moltbot.InboundMessage:
    """``message`` with each file's ref replaced by its stored copy where possible."""
    media: list[moltbot.Media] = []
    notes: list[str] = []
    for item in message.media:
        try:
            ref = await fetch(api, item.ref, settings=settings, channel=message.channel)
        except NotDownloaded as exc:
            logger.warning("{}: file {} was not downloaded: {}", label, item.ref, exc)
            notes.append(f"[the file {item.ref} was not downloaded: {exc}]")
            media.append(item)
        else:
            media.append(replace(item, ref=ref))
    text = "\n".join(part for part in (message.text, *notes) if part)
    return replace(message, media=tuple(media), text=text)

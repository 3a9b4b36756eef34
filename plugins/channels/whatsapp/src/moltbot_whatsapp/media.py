"""Inbound media download: media id -> short-lived URL -> bytes in the agent workspace.

``GET /{version}/{media-id}`` answers ``{url, mime_type, sha256, file_size, id,
messaging_product}``; the URL works for five minutes and only with the same bearer token, so
an expired one (404) is resolved once more. The body is read with a size cap, checked against
``sha256`` (the Graph API's, else the webhook's; hex or base64) and stored with
:func:`moltbot.channels.media.save_inbound`. Failures never raise: the message goes on with the
media id as its ref and a note saying why, in words that never include the access token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Any

import httpx
import trio
from loguru import logger

from moltbot import ChannelFatalError
from moltbot.channels.media import MAX_INBOUND_BYTES, MediaTooLarge, read_capped, save_inbound
from moltbot_whatsapp.graph import Graph, GraphError
from moltbot_whatsapp.normalize import Attachment

_LIMIT_MB = MAX_INBOUND_BYTES // (1024 * 1024)

_EXTENSIONS = {
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/3gpp": ".3gp",
    "video/mp4": ".mp4",
}
"""WhatsApp's own media types, fixed here (the system MIME table differs between hosts)."""


class DownloadFailed(Exception):
    """Why an attachment was not stored; the text is safe to show the agent and to log."""


@dataclass(frozen=True)
class Stored:
    """The outcome for one attachment: a workspace-relative path, or the reason there is none."""

    ref: str | None
    note: str | None = None


def filename_for(attachment: Attachment, mime_type: str | None) -> str:
    """The document's own file name, else ``<media-id><extension of the MIME type>``."""
    if attachment.filename:
        return attachment.filename
    bare = (mime_type or "").split(";")[0].strip().lower()
    return attachment.media_id + (_EXTENSIONS.get(bare) or mimetypes.guess_extension(bare) or ".bin")


def sha256_matches(expected: str, data: bytes) -> bool | None:
    """Whether ``data`` has the digest ``expected`` (hex or base64); None if unreadable."""
    digest = hashlib.sha256(data).digest()
    text = expected.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text) == digest
        except ValueError:
            return None
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded == digest if len(decoded) == 32 else None


def _too_large(size: str | int | None) -> bool:
    return str(size or "").isdigit() and int(str(size)) > MAX_INBOUND_BYTES


async def _read_capped(http: httpx.AsyncClient, url: str, graph: Graph) -> bytes | None:
    """The body at ``url`` (bearer token attached), or None when it answers 404 (expired).

    An announced ``Content-Length`` over the limit is refused before reading; a body without
    one is cut off at the limit (leaving httpx's inner stream iterators to trio's finalizer).
    """
    try:
        async with http.stream("GET", url, headers=graph.headers, timeout=graph.timeout) as response:
            if response.status_code == 404:
                return None
            if not response.is_success:
                raise DownloadFailed(f"the media server answered HTTP {response.status_code}")
            try:
                return await read_capped(response)
            except MediaTooLarge:
                raise DownloadFailed(f"it is over the {_LIMIT_MB} MB limit") from None
    except httpx.HTTPError as exc:
        raise DownloadFailed(f"the download failed ({type(exc).__name__})") from None


async def _resolve(graph: Graph, media_id: str) -> dict[str, Any]:
    try:
        info = await graph.request("GET", media_id)
    except GraphError as exc:
        raise DownloadFailed(f"Meta could not resolve the media id (code {exc.code})") from None
    except ChannelFatalError:
        raise DownloadFailed("Meta rejected the access token (code 190)") from None
    except ConnectionError as exc:
        raise DownloadFailed(str(exc)) from None
    if not isinstance(info.get("url"), str):
        raise DownloadFailed("Meta's media lookup had no download URL")
    if _too_large(info.get("file_size")):
        raise DownloadFailed(f"it is over the {_LIMIT_MB} MB limit ({info['file_size']} bytes)")
    return info


async def fetch(http: httpx.AsyncClient, graph: Graph, attachment: Attachment) -> tuple[bytes, str | None]:
    """The attachment's bytes and MIME type; raises :class:`DownloadFailed`."""
    info = await _resolve(graph, attachment.media_id)
    data = await _read_capped(http, info["url"], graph)
    if data is None:  # the five-minute URL lapsed before we got to it: ask for a fresh one
        info = await _resolve(graph, attachment.media_id)
        data = await _read_capped(http, info["url"], graph)
    if data is None:
        raise DownloadFailed("the media URL answered HTTP 404 twice (expired or deleted)")
    expected = info.get("sha256") or attachment.sha256
    if isinstance(expected, str) and sha256_matches(expected, data) is False:
        raise DownloadFailed("its sha256 did not match what Meta announced")
    return data, info.get("mime_type") or attachment.mime_type


async def store(
    http: httpx.AsyncClient,
    graph: Graph,
    attachment: Attachment,
    *,
    settings: Any,
    channel: str,
    timeout: float,
) -> Stored:
    """Download and save ``attachment`` within ``timeout`` seconds; the outcome says where it
    is, or why it is not."""
    try:
        with trio.fail_after(timeout):
            data, mime_type = await fetch(http, graph, attachment)
        return Stored(save_inbound(settings, channel, filename_for(attachment, mime_type), data))
    except trio.TooSlowError:
        reason = f"it took longer than {timeout:g} s"
    except MediaTooLarge:
        reason = f"it is over the {_LIMIT_MB} MB limit"
    except DownloadFailed as exc:
        reason = str(exc)
    except Exception as exc:  # a channel must survive any one bad attachment
        reason = f"an unexpected error ({type(exc).__name__})"
    logger.warning("whatsapp: {} {} not downloaded: {}", attachment.kind, attachment.media_id, reason)
    return Stored(None, f"({attachment.kind} {attachment.media_id} was not downloaded: {reason})")

"""Where channels keep downloaded inbound attachments: inside the agent's workspace.

A photo sent to the bot is only useful if the agent's file tools can open it, and those are
confined to the workspace. So a channel that downloads an attachment stores it under
``<workspace>/media/inbound/<channel>/`` with :func:`save_inbound`, and puts the returned
workspace-relative path in :attr:`moltbot.interfaces.Media.ref`.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import httpx

from moltbot.agent.workspace import resolve_workspace
from moltbot.config.store import atomic_write

MAX_INBOUND_BYTES = 20 * 1024 * 1024
"""Largest attachment kept (the Telegram Bot API's own download limit)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MediaTooLarge(ValueError):
    """The attachment is larger than :data:`MAX_INBOUND_BYTES`; the message goes on without it."""


def megabytes(size: int) -> str:
    """``20971520`` -> ``"20.0 MB"``, for notes the agent and the user read."""
    return f"{size / (1024 * 1024):.1f} MB"


async def read_capped(response: httpx.Response, limit: int = MAX_INBOUND_BYTES) -> bytes:
    """The body of a streamed ``response``, refused past ``limit`` with :class:`MediaTooLarge`:
    at once when ``Content-Length`` announces more, else as soon as the bytes read exceed it
    (a body without a length is never read whole)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise MediaTooLarge(f"the file is larger than {limit} bytes")
    data = bytearray()
    too_large = False
    try:
        async for chunk in response.aiter_bytes():
            if too_large:
                continue  # draining what was already buffered lets httpx's iterators finish
            data += chunk
            if len(data) > limit:
                too_large = True
                await response.aclose()  # drop the connection: the rest is never sent or read
    except (httpx.StreamClosed, httpx.ReadError, RuntimeError):
        if not too_large:
            raise
    if too_large:
        raise MediaTooLarge(f"the file is larger than {limit} bytes")
    return bytes(data)


def inbound_dir(settings: Any, channel: str) -> Path:
    """``<workspace>/media/inbound/<channel>`` for the configured agent workspace."""
    return resolve_workspace(settings.agent.workspace) / "media" / "inbound" / channel


def safe_name(name: str) -> str:
    """A file name without path separators, leading dots or shell-hostile characters."""
    cleaned = _UNSAFE.sub("_", Path(name).name).lstrip("._")
    return cleaned[:80] or "file"


def save_inbound(settings: Any, channel: str, name: str, data: bytes) -> str:
    """Store ``data`` (atomically, mode 0600) and return its path relative to the workspace.

    The stored name gets a random prefix, so two attachments called ``photo.jpg`` never
    overwrite each other and a sender cannot guess or aim at an existing file.
    """
    if len(data) > MAX_INBOUND_BYTES:
        raise MediaTooLarge(f"{name}: {len(data)} bytes is over the {MAX_INBOUND_BYTES} byte limit")
    directory = inbound_dir(settings, channel)
    path = directory / f"{secrets.token_hex(4)}-{safe_name(name)}"
    atomic_write(path, data, keep_backup=False)
    return str(path.relative_to(resolve_workspace(settings.agent.workspace)))

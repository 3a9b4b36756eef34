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

from moltbot.agent.workspace import resolve_workspace
from moltbot.config.store import atomic_write

MAX_INBOUND_BYTES = 20 * 1024 * 1024
"""Largest attachment kept (the Telegram Bot API's own download limit)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class MediaTooLarge(ValueError):
    """The attachment is larger than :data:`MAX_INBOUND_BYTES`; the message goes on without it."""


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

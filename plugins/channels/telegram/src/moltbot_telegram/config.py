"""``channels.telegram``: the bot token, how updates arrive (polling or webhook), media
downloads, plus every channel's keys."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

import moltbot

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramConfig(moltbot.ChannelConfig):
    bot_token: str = Field(min_length=10)
    """From @BotFather, ``123456:ABC-...``; keep it in gateway.env as ``${TELEGRAM_BOT_TOKEN}``."""
    api_base_url: str = "https://api.telegram.org"
    """The Bot API server (a local ``telegram-bot-api`` server, or a fake one in tests)."""
    mode: Literal["polling", "webhook"] = "polling"
    """``polling``: ``getUpdates`` long polls; ``webhook``: Telegram POSTs to ``webhookUrl``."""
    webhook_url: str | None = None
    """The public URL that reaches the gateway's ``/webhooks/telegram`` (webhook mode)."""
    webhook_secret: str | None = None
    """Sent back by Telegram in ``X-Telegram-Bot-Api-Secret-Token`` with every update."""
    download_media: bool = True
    """Download inbound photos, files and voice notes into the agent workspace (``getFile``)."""
    poll_timeout: int = Field(30000, ge=0, le=50000)
    """Milliseconds a ``getUpdates`` long poll may wait for new updates."""
    request_timeout: int = Field(15000, ge=1000)
    """Milliseconds any other Bot API call may take."""

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_RE.fullmatch(value):
            raise ValueError(
                "webhookSecret must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-' (Telegram's"
                " rule for secret_token); generate one with: openssl rand -hex 32"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("webhookUrl must be the public https:// URL of the gateway's /webhooks/telegram")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> TelegramConfig:
        if self.mode == "webhook":
            missing = [
                key
                for key, value in (("webhookUrl", self.webhook_url), ("webhookSecret", self.webhook_secret))
                if not value
            ]
            if missing:
                raise ValueError(
                    f"mode 'webhook' needs {' and '.join(missing)} (the public URL of"
                    " /webhooks/telegram, and a secret Telegram echoes in every delivery)"
                )
        return self

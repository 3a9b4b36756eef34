"""``channels.telegram``: the bot token and polling settings, plus every channel's keys."""

from __future__ import annotations

from pydantic import Field

import moltbot


class TelegramConfig(moltbot.ChannelConfig):
    bot_token: str = Field(min_length=10)
    """From @BotFather, ``123456:ABC-...``; keep it in gateway.env as ``${TELEGRAM_BOT_TOKEN}``."""
    api_base_url: str = "https://api.telegram.org"
    """The Bot API server (a local ``telegram-bot-api`` server, or a fake one in tests)."""
    poll_timeout: int = Field(30000, ge=0, le=50000)
    """Milliseconds a ``getUpdates`` long poll may wait for new updates."""
    request_timeout: int = Field(15000, ge=1000)
    """Milliseconds any other Bot API call may take."""

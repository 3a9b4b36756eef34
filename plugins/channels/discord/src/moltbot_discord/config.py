"""``channels.discord``: the bot token, where Discord's REST API and Gateway are, the Gateway
intents, media downloads, plus every channel's keys."""

from __future__ import annotations

from pydantic import Field, field_validator

import moltbot

GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
"""Privileged: enable "Message Content Intent" for the bot in the Developer Portal."""
DEFAULT_INTENTS = GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT


class DiscordConfig(moltbot.ChannelConfig):
    bot_token: str = Field(min_length=20)
    """The bot's token (Developer Portal, Bot, Reset Token); keep it in gateway.env as
    ``${DISCORD_BOT_TOKEN}``."""
    api_base_url: str = "https://discord.com/api/v10"
    """The REST API root, version included (a fake one in tests)."""
    gateway_url: str | None = None
    """The Gateway WebSocket URL; by default the one ``GET /gateway/bot`` names."""
    intents: int = Field(DEFAULT_INTENTS, ge=0, lt=1 << 26)
    """Gateway intents bit set; the default receives guild messages, DMs and their text."""
    download_media: bool = True
    """Download inbound attachments into the agent workspace."""
    request_timeout: int = Field(15000, ge=1000)
    """Milliseconds a REST call or a Gateway connect may take."""

    @field_validator("bot_token")
    @classmethod
    def _bare_token(cls, value: str) -> str:
        value = value.strip()
        if value.lower().startswith("bot "):
            raise ValueError("botToken is the token alone, without the 'Bot ' prefix")
        if any(c.isspace() for c in value):
            raise ValueError("botToken must not contain spaces")
        return value

    @field_validator("api_base_url", "gateway_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://", "wss://", "ws://")):
            raise ValueError("must be an http(s):// (REST) or ws(s):// (Gateway) URL")
        return value.rstrip("/") if value else value

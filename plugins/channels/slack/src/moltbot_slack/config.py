"""``channels.slack`` (or one ``channels.slack.accounts.<id>``): the app's tokens, how events
arrive (Socket Mode or HTTP), plus every channel's keys."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

import moltbot


class SlackConfig(moltbot.ChannelConfig):
    mode: Literal["socket", "http"] = "socket"
    """``socket``: Socket Mode WebSocket (no public URL); ``http``: Slack POSTs to /webhooks/slack."""
    bot_token: str
    """The Bot User OAuth Token (``xoxb-...``, OAuth & Permissions); keep it in gateway.env."""
    app_token: str | None = None
    """An app-level token (``xapp-...``) with ``connections:write``; Socket Mode needs it."""
    signing_secret: str | None = None
    """Basic Information → App Credentials → Signing Secret; HTTP mode checks every request with it."""
    api_base_url: str = "https://slack.com/api"
    """The Web API root (a fake one in tests)."""
    request_timeout: int = Field(15000, ge=1000)
    """Milliseconds a Web API call, a file download or the WebSocket handshake may take."""
    download_media: bool = True
    """Download files shared with the bot into the agent workspace (needs ``files:read``)."""

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str) -> str:
        if not value.startswith("xoxb-") or len(value) < 10:
            raise ValueError(
                "botToken must be the Bot User OAuth Token starting with 'xoxb-' (Slack app settings →"
                " OAuth & Permissions → Install to Workspace)"
            )
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token_shape(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("xapp-") or len(value) < 10):
            raise ValueError(
                "appToken must be an app-level token starting with 'xapp-' (Slack app settings → Basic"
                " Information → App-Level Tokens, with the connections:write scope)"
            )
        return value

    @model_validator(mode="after")
    def _mode_needs_its_credential(self) -> SlackConfig:
        if self.mode == "socket" and not self.app_token:
            raise ValueError(
                "mode 'socket' needs appToken (an 'xapp-' app-level token with connections:write from"
                " Basic Information → App-Level Tokens), or set mode: 'http' with signingSecret"
            )
        if self.mode == "http" and not self.signing_secret:
            raise ValueError(
                "mode 'http' needs signingSecret (Basic Information → App Credentials → Signing Secret)"
                " to verify Slack's requests to /webhooks/slack"
            )
        return self

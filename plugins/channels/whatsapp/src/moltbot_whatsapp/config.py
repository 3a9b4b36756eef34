"""``channels.whatsapp`` (or one ``channels.whatsapp.accounts.<id>``): Cloud API credentials
and endpoints, plus every channel's keys."""

from __future__ import annotations

from pydantic import Field

import moltbot


class WhatsAppConfig(moltbot.ChannelConfig):
    access_token: str = Field(min_length=10)
    """A system-user access token with ``whatsapp_business_messaging``; keep it in gateway.env."""
    phone_number_id: str = Field(pattern=r"^\d{5,20}$")
    """The business phone number's id (not the phone number) from the app dashboard."""
    app_secret: str = Field(min_length=8)
    """The Meta app secret: every webhook delivery's ``X-Hub-Signature-256`` is checked with it."""
    verify_token: str = Field(min_length=8)
    """Your own random string, entered as "Verify token" when subscribing the webhook."""
    graph_base_url: str = "https://graph.facebook.com"
    api_version: str = Field("v21.0", pattern=r"^v\d+\.\d+$")
    request_timeout: int = Field(15000, ge=1000)
    """Milliseconds a Graph API call may take."""
    retry_base: int = Field(1000, ge=1)
    """Milliseconds before the first retry of a rate-limited send (doubles each time)."""
    download_media: bool = True
    """Store inbound images, audio, video, documents and stickers in the agent workspace."""
    media_timeout: int = Field(60000, ge=1000)
    """Milliseconds one attachment's lookup and download may take in all (messages wait)."""

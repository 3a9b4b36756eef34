"""moltbot-whatsapp: registers the ``whatsapp`` channel (WhatsApp Business Cloud API, one
object per business number) and the webhook route ``/webhooks/whatsapp`` they share on the
gateway's HTTP port."""

from collections.abc import Iterator

import moltbot

WEBHOOK_PATH = "/webhooks/whatsapp"


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_whatsapp.channel import WhatsAppChannel
    from moltbot_whatsapp.config import WhatsAppConfig

    yield moltbot.ChannelSpec(
        name="whatsapp",
        factory=WhatsAppChannel,
        config=WhatsAppConfig,
        summary="WhatsApp Business Cloud API (webhooks + Graph API)",
    )


@moltbot.hookimpl
def moltbot_register_http_routes() -> Iterator[moltbot.RouteSpec]:
    from moltbot_whatsapp.routes import webhook

    yield moltbot.RouteSpec(
        path=WEBHOOK_PATH,
        handler=webhook,
        methods=("GET", "POST"),
        auth="none",
        summary="WhatsApp Cloud API webhook for every account (X-Hub-Signature-256 checked, "
        "routed by phone_number_id)",
    )

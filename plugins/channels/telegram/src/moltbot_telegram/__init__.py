"""moltbot-telegram: registers the ``telegram`` channel (Telegram Bot API, long polling or
webhook) and its webhook route ``/webhooks/telegram`` on the gateway's HTTP port."""

from collections.abc import Iterator

import moltbot

WEBHOOK_PATH = "/webhooks/telegram"


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_telegram.channel import TelegramChannel
    from moltbot_telegram.config import TelegramConfig

    yield moltbot.ChannelSpec(
        name="telegram",
        factory=TelegramChannel,
        config=TelegramConfig,
        summary="Telegram bots (Bot API long polling or webhook, inbound files into the workspace)",
    )


@moltbot.hookimpl
def moltbot_register_http_routes() -> Iterator[moltbot.RouteSpec]:
    from moltbot_telegram.routes import webhook

    yield moltbot.RouteSpec(
        path=WEBHOOK_PATH,
        handler=webhook,
        methods=("POST",),
        auth="none",
        summary="Telegram Bot API webhook (X-Telegram-Bot-Api-Secret-Token checked)",
    )

"""moltbot-telegram: registers the ``telegram`` channel (Telegram Bot API, long polling)."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_telegram.channel import TelegramChannel
    from moltbot_telegram.config import TelegramConfig

    yield moltbot.ChannelSpec(
        name="telegram",
        factory=TelegramChannel,
        config=TelegramConfig,
        summary="Telegram bot (Bot API long polling)",
    )

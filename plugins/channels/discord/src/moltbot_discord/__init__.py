"""moltbot-discord: registers the ``discord`` channel (a Discord bot: Gateway v10 WebSocket in,
REST API out)."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_discord.channel import DiscordChannel
    from moltbot_discord.config import DiscordConfig

    yield moltbot.ChannelSpec(
        name="discord",
        factory=DiscordChannel,
        config=DiscordConfig,
        summary="Discord bots (Gateway v10 with resume, DMs and guild channels, inbound files)",
    )

"""moltbot-echo: registers the ``echo`` channel. Keep this module tiny: it is imported whenever
moltbot starts, so heavy imports belong inside the factory's module."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_echo.channel import EchoChannel, EchoConfig

    yield moltbot.ChannelSpec(
        name="echo",
        factory=EchoChannel,
        config=EchoConfig,
        summary="Loopback channel for trying moltbot without a messaging account",
    )

"""A well-behaved fake plugin offering the channel "fakechat"."""

import moltbot
from moltbot.testing import MemoryChatChannel


@moltbot.hookimpl
def moltbot_register_channels():
    yield moltbot.ChannelSpec(name="fakechat", factory=MemoryChatChannel)

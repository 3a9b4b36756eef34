"""A fake plugin that offers the same channel name as moltbot_fake_ok."""

import moltbot
from moltbot.testing import MemoryChatChannel


@moltbot.hookimpl
def moltbot_register_channels():
    yield moltbot.ChannelSpec(name="fakechat", factory=MemoryChatChannel)

"""The channel runtime: supervision, dedupe, chunking, DM pairing, access control and routing.

``app.services["channels"]`` is a :class:`ChannelsService`; see ``docs/channels.md``.
"""

from moltbot.channels.access import Decision, decide
from moltbot.channels.chunking import split_text
from moltbot.channels.dedupe import DedupeStore
from moltbot.channels.pairing import PairingStore
from moltbot.channels.service import ChannelsService
from moltbot.channels.supervisor import ChannelStatus, RestartPolicy, supervise

__all__ = [
    "ChannelStatus",
    "ChannelsService",
    "Decision",
    "DedupeStore",
    "PairingStore",
    "RestartPolicy",
    "decide",
    "split_text",
    "supervise",
]

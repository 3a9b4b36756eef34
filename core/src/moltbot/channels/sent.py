"""Recent sends by idempotency key, for channels whose platform has no idempotent send.

:meth:`moltbot.ChatChannel.send` must not deliver one idempotency key twice. The channels
service records keys it has sent, but a send can succeed on the platform and be interrupted
before that record is written; the service then retries with the same key, and the channel
answers from here instead of sending again.
"""

from __future__ import annotations

from collections import OrderedDict


class SentMessages:
    """The platform id of each recent send, by idempotency key (the newest ``limit`` kept)."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str | None) -> str | None:
        """The id ``key`` was sent as, or ``None`` (also for no key)."""
        return self._ids.get(key) if key is not None else None

    def remember(self, key: str | None, sent: str) -> None:
        if key is None:
            return
        self._ids[key] = sent
        self._ids.move_to_end(key)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)

"""Typing indicators while the agent works on a channel message.

One indicator per chat: ``set_typing`` every ``interval`` seconds until the reply is delivered,
the run ends (a run may end without a reply), or ``cap`` seconds passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trio
from loguru import logger

from moltbot.interfaces.channel import ChatChannel, Origin


@dataclass
class _Indicator:
    done: trio.Event = field(default_factory=trio.Event)


class TypingIndicators:
    """The running indicators, by ``(channel, account, chat)``."""

    def __init__(self, *, interval: float, cap: float) -> None:
        self.interval = interval
        self.cap = cap
        self._active: dict[tuple[str, str, str], _Indicator] = {}

    async def keep_typing(self, channel: ChatChannel, origin: Origin, agent: Any, run_id: str) -> None:
        """Show typing in ``origin``'s chat until :meth:`stop`, the run's end, or the cap."""
        key = (origin.channel, origin.account, origin.chat_id)
        indicator = self._active.setdefault(key, _Indicator())

        async def run_ended() -> None:
            try:
                await agent.wait(run_id)
            except Exception as exc:
                logger.debug("typing for {}: waiting for run {} failed: {}", origin.chat_id, run_id, exc)
            indicator.done.set()

        with trio.move_on_after(self.cap):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(run_ended)
                while not indicator.done.is_set():
                    try:
                        await channel.set_typing(origin.chat_id)
                    except Exception as exc:
                        logger.debug("channel {}: typing indicator failed: {}", origin.channel, exc)
                    with trio.move_on_after(self.interval):
                        await indicator.done.wait()
                nursery.cancel_scope.cancel()
        if self._active.get(key) is indicator:
            del self._active[key]

    def stop(self, origin: Origin) -> None:
        """The reply is being delivered: stop the indicator for ``origin``'s chat."""
        indicator = self._active.pop((origin.channel, origin.account, origin.chat_id), None)
        if indicator is not None:
            indicator.done.set()

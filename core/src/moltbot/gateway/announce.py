"""The gateway's state events: ``presence`` when clients come and go, ``health`` periodically.

OpenClaw clients keep the ``snapshot`` from ``hello-ok`` fresh with these events and compare
``stateVersion`` counters. A burst of connects (a reconnect storm, a benchmark opening 200
clients) would otherwise send a presence list to every client per connect, so presence changes
are announced at most once per :data:`PRESENCE_INTERVAL`, with the latest list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

PRESENCE_INTERVAL = 1.0
"""Seconds between two ``presence`` events (changes in between are merged)."""
HEALTH_INTERVAL = 60.0
"""Seconds between two ``health`` events."""

Broadcast = Callable[..., int]


class Announcer:
    """Counts state versions and broadcasts ``presence`` and ``health`` events."""

    def __init__(
        self,
        broadcast: Broadcast,
        presence: Callable[[], list[dict[str, Any]]],
        health: Callable[[], dict[str, Any]],
    ) -> None:
        self._broadcast = broadcast
        self._presence = presence
        self._health = health
        self.presence_version = 0
        self.health_version = 0
        self._changed = trio.Event()

    def state_version(self) -> dict[str, int]:
        return {"presence": self.presence_version, "health": self.health_version}

    def presence_changed(self) -> None:
        """A client connected or left (sync; the event goes out from :meth:`run`)."""
        self.presence_version += 1
        self._changed.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._announce_presence)
            nursery.start_soon(self._announce_health)
            task_status.started()

    async def _announce_presence(self) -> None:
        while True:
            await self._changed.wait()
            self._changed = trio.Event()
            payload = {"presence": self._presence(), "stateVersion": self.state_version()}
            self._broadcast("presence", payload, scope=None)
            await trio.sleep(PRESENCE_INTERVAL)

    async def _announce_health(self) -> None:
        while True:
            await trio.sleep(HEALTH_INTERVAL)
            self.health_version += 1
            payload = {**self._health(), "stateVersion": self.state_version()}
            self._broadcast("health", payload, scope="operator.read")

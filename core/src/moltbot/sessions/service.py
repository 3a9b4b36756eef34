"""The ``sessions`` service: opens the agents' session stores for the gateway process and
writes their indexes about once a second (and once more at shutdown)."""

from __future__ import annotations

import trio

from moltbot.app import App
from moltbot.interfaces.service import Service
from moltbot.sessions.store import SessionStore

FLUSH_INTERVAL = 1.0
"""Seconds between index writes; appends themselves are durable immediately."""


class SessionService(Service):
    """``app.services["sessions"]``: ``await store(agent_id)`` gives that agent's store."""

    def __init__(self, app: App, *, flush_interval: float = FLUSH_INTERVAL) -> None:
        self.app = app
        self.flush_interval = flush_interval
        self.stores: dict[str, SessionStore] = {}
        self._opening = trio.Lock()

    async def store(self, agent_id: str = "main") -> SessionStore:
        """The open store of ``agent_id`` (opened, and its index repaired, on first use)."""
        async with self._opening:
            if agent_id not in self.stores:
                store = SessionStore.for_agent(self.app.paths.state_dir, self.app.settings, agent_id)
                await store.open()
                self.stores[agent_id] = store
            return self.stores[agent_id]

    async def flush(self) -> None:
        for store in list(self.stores.values()):
            await store.flush()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        await self.store("main")
        task_status.started()
        try:
            while True:
                await trio.sleep(self.flush_interval)
                await self.flush()
        finally:
            with trio.CancelScope(shield=True):
                await self.flush()

    def status(self) -> dict[str, int]:
        return {
            "agents": len(self.stores),
            "sessions": sum(len(s.list()) for s in self.stores.values()),
            "cached": sum(s.cached for s in self.stores.values()),
        }

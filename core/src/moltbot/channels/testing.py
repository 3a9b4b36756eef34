"""A stand-in agent for channel tests: it answers every message with ``echo: <text>``.

It honours the agent service contract the channels service relies on (``submit`` with an
idempotency key, ``wait``, and replying through ``app.services["channels"].deliver``), so
channel plugins can be tested end to end without a model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import trio

from moltbot.interfaces.channel import Origin
from moltbot.interfaces.service import Service


@dataclass(frozen=True)
class Submitted:
    session_key: str
    text: str
    origin: Origin | None
    idempotency_key: str | None


class EchoAgent(Service):
    """``app.services["agent"]`` for tests; ``calls`` lists every accepted submission."""

    def __init__(self, app: Any, *, delay: float = 0.0, reply: str = "echo: {text}") -> None:
        self.app = app
        self.delay = delay
        self.reply = reply
        self.calls: list[Submitted] = []
        self._runs: dict[str, trio.Event] = {}
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1)
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    async def submit(
        self,
        *,
        session_key: str,
        text: str,
        origin: Origin | None = None,
        idempotency_key: str | None = None,
        run_id: str | None = None,
    ) -> str:
        if idempotency_key is not None and idempotency_key in self._by_key:
            return self._by_key[idempotency_key]
        assert self._nursery is not None, "EchoAgent.run must be started first"
        run_id = run_id or f"run-{next(self._ids)}"
        if idempotency_key is not None:
            self._by_key[idempotency_key] = run_id
        self.calls.append(Submitted(session_key, text, origin, idempotency_key))
        self._runs[run_id] = trio.Event()
        self._nursery.start_soon(self._answer, run_id, text, origin)
        return run_id

    async def _answer(self, run_id: str, text: str, origin: Origin | None) -> None:
        await trio.sleep(self.delay)
        if origin is not None:
            await self.app.services["channels"].deliver(origin, self.reply.format(text=text))
        self._runs[run_id].set()

    async def wait(self, run_id: str, timeout: float | None = None) -> dict[str, Any]:
        with trio.move_on_after(float("inf") if timeout is None else timeout):
            await self._runs[run_id].wait()
            return {"status": "ok", "text": "", "usage": {}}
        return {"status": "timeout", "text": "", "usage": {}}

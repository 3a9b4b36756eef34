"""Runs and per-session lanes: one run at a time per session, the rest queued by mode.

Modes (``messages.queue.mode``, per session via ``/queue`` or ``sessions.patch``):
``steer`` hands a message to the running turn, which reads it at its next step (after tool
results); if the turn ends first, it runs as a follow-up. ``followup`` runs each message after
the current one. ``collect`` runs everything that waited as one turn. ``interrupt`` aborts the
running turn and drops what waited.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import trio

from moltbot.interfaces.channel import Origin

QueueMode = Literal["steer", "followup", "collect", "interrupt"]
QUEUE_MODES: tuple[QueueMode, ...] = ("steer", "followup", "collect", "interrupt")


@dataclass(eq=False)
class Run:
    """One submitted message and, once finished, its result."""

    id: str
    session_key: str
    text: str
    origin: Origin | None = None
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    status: str = "queued"
    result: dict[str, Any] | None = None
    done: trio.Event = field(default_factory=trio.Event)
    scope: trio.CancelScope | None = None
    abort_requested: bool = False
    steerable: bool = True
    """False once the turn's loop has ended: later messages queue instead of steering."""
    merged_into: Run | None = None
    """Set when this message was answered as part of another run (collect, steer)."""
    steered: list[Run] = field(default_factory=list)
    """Messages handed to this run while it runs (steer); taken at its next step."""
    extra: list[Run] = field(default_factory=list)
    """Messages collected into this run before it started."""
    on_finish: Callable[[dict[str, Any]], None] | None = None
    """Called with the result when the run finishes (HTTP streams end on it)."""

    @property
    def finished(self) -> bool:
        return self.done.is_set()

    def finish(self, result: dict[str, Any]) -> None:
        if self.done.is_set():
            return
        self.status = result["status"]
        self.result = result
        self.done.set()
        if self.on_finish is not None:
            self.on_finish(result)

    def abort(self) -> None:
        self.abort_requested = True
        if self.scope is not None:
            self.scope.cancel()

    def prompt_text(self) -> str:
        """The user text of this run, with collected messages appended in arrival order."""
        return "\n\n".join(r.text for r in (self, *self.extra))


@dataclass(eq=False)
class Lane:
    key: str
    queue: deque[Run] = field(default_factory=deque)
    active: Run | None = None
    working: bool = False

    def add(self, run: Run, mode: QueueMode, cap: int) -> list[Run]:
        """Queue ``run`` under ``mode``; returns runs dropped (to be answered as aborted)."""
        dropped: list[Run] = []
        active = self.active
        if active is not None and not active.finished:
            if mode == "steer" and active.steerable and not active.abort_requested:
                run.merged_into = active
                run.status = "running"
                active.steered.append(run)
                return dropped
            if mode == "interrupt":
                active.abort()
                dropped.extend(self.queue)
                self.queue.clear()
        self.queue.append(run)
        while len(self.queue) > cap:
            dropped.append(self.queue.popleft())
        return dropped

    def next_run(self, mode: QueueMode) -> Run | None:
        """The next run to start; in ``collect`` mode it carries every other waiting message."""
        if not self.queue:
            return None
        run = self.queue.popleft()
        if mode == "collect":
            while self.queue:
                extra = self.queue.popleft()
                extra.merged_into = run
                run.extra.append(extra)
        return run

    def take_steered(self, run: Run) -> list[Run]:
        taken, run.steered = run.steered, []
        return taken

    def requeue_steered(self, run: Run) -> None:
        """Steered messages the run ended without reading become the next follow-ups."""
        for item in reversed(run.steered):
            item.merged_into = None
            item.status = "queued"
            self.queue.appendleft(item)
        run.steered = []


def base_result(run: Run, *, status: str, text: str, stop_reason: str) -> dict[str, Any]:
    ended = int(time.time() * 1000)
    return {
        "runId": run.id,
        "sessionKey": run.session_key,
        "sessionId": None,
        "status": status,
        "text": text,
        "stopReason": stop_reason,
        "error": None,
        "model": None,
        "notice": None,
        "usage": {
            "input": 0,
            "output": 0,
            "cacheRead": 0,
            "cacheWrite": 0,
            "total": 0,
            "costUsd": 0.0,
            "calls": 0,
        },
        "steps": 0,
        "startedAt": run.created_ms,
        "endedAt": ended,
        "durationMs": ended - run.created_ms,
    }

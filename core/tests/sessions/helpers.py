"""Shared test helpers: a settable clock and a store factory rooted in a temp dir."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from moltbot.sessions import SessionStore


class FakeClock:
    """A wall clock the test moves by hand (aware datetimes, fixed offset)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def open_store(directory: Path, **kwargs: Any) -> SessionStore:
    store = SessionStore(directory, **kwargs)
    await store.open()
    return store

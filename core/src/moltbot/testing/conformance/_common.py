"""Shared by the conformance suites: the deadline and a polling helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import trio

DEADLINE = 10.0


async def wait_until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``predicate`` until it holds, failing the test after :data:`DEADLINE` seconds."""
    with trio.move_on_after(DEADLINE):
        while not await predicate():
            await trio.sleep(0.01)
        return
    pytest.fail(f"timed out waiting for {what}")

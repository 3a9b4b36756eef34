"""Serve an ASGI app (a fake platform, a webhook route) on a loopback port in a test.

Every fake server in the tests needs the same quiet hypercorn setup; :func:`serve_app` is it,
and :class:`Outage` adds taking the server down and up again on the same port, so a test can
show a client backing off and recovering.
"""

from __future__ import annotations

import functools
from typing import Any

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve


async def serve_app(
    app: Any, bind: str = "127.0.0.1:0", *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve ``app`` until cancelled; reports its base URL (``http://127.0.0.1:<port>``)."""
    config = HypercornConfig()
    config.bind = [bind]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 0.05
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(functools.partial(serve, app, config))  # type: ignore[arg-type]
        task_status.started(binds[0])


class Outage:
    """``go_down()`` stops listening (connections refused, open ones dropped) until
    ``come_up()`` listens again on the same port."""

    def __init__(self) -> None:
        self._down = trio.Event()
        self._up = trio.Event()

    def go_down(self) -> None:
        self._down.set()

    def come_up(self) -> None:
        self._up.set()

    async def serve(self, app: Any, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve ``app`` until cancelled, through outages; reports the base URL once."""
        bind, base_url = "127.0.0.1:0", ""
        while True:
            async with trio.open_nursery() as nursery:
                url = await nursery.start(serve_app, app, bind)
                if not base_url:
                    base_url, bind = url, url.removeprefix("http://")
                    task_status.started(base_url)
                await self._down.wait()
                nursery.cancel_scope.cancel()
            self._down = trio.Event()
            await self._up.wait()
            self._up = trio.Event()

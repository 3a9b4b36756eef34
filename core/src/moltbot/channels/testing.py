"""A stand-in agent for channel tests: it answers every message with ``echo: <text>``.

It honours the agent service contract the channels service relies on (``submit`` with an
idempotency key, ``wait``, and replying through ``app.services["channels"].deliver``), so
channel plugins can be tested end to end without a model; :func:`echo_stack` runs it with the
channels service and a real gateway.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from moltbot.app import App
from moltbot.channels.service import ChannelsService
from moltbot.channels.supervisor import RestartPolicy
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.gateway.server import Gateway
from moltbot.interfaces.channel import Origin
from moltbot.interfaces.service import Service
from moltbot.testing import make_plugins


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


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = 8.0) -> None:
    """Poll ``predicate`` every 10 ms until it holds; fail the test after ``timeout`` seconds."""
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.01)
        return
    raise AssertionError(f"timed out waiting for {what}")


async def settled(service: ChannelsService, timeout: float = 8.0) -> None:
    """Wait until every accepted message's run has ended (the inbound journal is empty), so
    stopping now is a clean stop, not a crash in the middle of a reply that the next start
    would replay."""
    await eventually(lambda: not service.journal.pending(), "every accepted message's run to end", timeout)


@dataclass
class EchoStack:
    """A running app with the channels service, the echo agent and a gateway on a free port."""

    app: App
    service: ChannelsService
    agent: EchoAgent
    http_url: str
    """``http://127.0.0.1:<port>``: where the gateway's HTTP routes (webhooks) are."""

    def status(self, name: str) -> dict[str, Any]:
        """``channels.status`` for one channel account (``telegram``, ``telegram:work``)."""
        return self.service.status()["channels"][name]


@asynccontextmanager
async def echo_stack(
    state: Path, channels: dict[str, Any], *impls: Callable[..., Any], **service: Any
) -> AsyncIterator[EchoStack]:
    """Run ``channels`` (the config's ``channels`` section) from the plugins whose hook
    functions are ``impls``, end to end without a model: the channels service (fast restarts;
    ``service`` overrides its settings), :class:`EchoAgent` and a real gateway, with the state
    in ``state`` and the agent workspace next to it."""
    env = {"MOLTBOT_STATE_DIR": str(state)}
    paths = resolve_paths(env)
    config = {
        "gateway": {"auth": {"mode": "token", "token": "gateway-token-0123456789abcdef"}},
        "agent": {"workspace": str(state.parent / "workspace")},
        "channels": channels,
    }
    write_config(paths.config_path, config)
    plugins = make_plugins(*impls)
    app = App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)
    agent = EchoAgent(app)
    service.setdefault("policy", RestartPolicy(initial=0.05, cap=0.2, stable_after=5))
    channels_service = ChannelsService(app, **service)
    app.services.update(agent=agent, channels=channels_service)
    async with trio.open_nursery() as nursery:
        await nursery.start(agent.run)
        await nursery.start(channels_service.run)
        gateway = Gateway(app, port=0)
        app.services["gateway"] = gateway
        urls = await nursery.start(gateway.run)
        yield EchoStack(app, channels_service, agent, urls[0].replace("ws", "http", 1))
        nursery.cancel_scope.cancel()

"""Helpers for testing moltbot plugins: fresh plugin managers and fakes.

Opt-in and never auto-loaded. Conformance base classes live in
:mod:`moltbot.testing.conformance`; pytest fixtures in :mod:`moltbot.testing.fixtures`
(``pytest_plugins = ["moltbot.testing.fixtures"]``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from moltbot.config import Settings
from moltbot.interfaces import (
    AuthProfile,
    CacheBackend,
    ChannelCapabilities,
    ChatChannel,
    Done,
    InboundMessage,
    LogRecord,
    LogSink,
    ModelProvider,
    ModelRequest,
    OutboundMessage,
    StreamEvent,
    TextDelta,
    Usage,
)
from moltbot.plugins import Plugins, module_plugin
from moltbot.specs import BuildContext


def make_plugins(
    *impls: Callable[..., Any], builtins: bool = True, strict: bool = False, **kwargs: Any
) -> Plugins:
    """A new :class:`Plugins` with the built-ins and ``impls`` (inline ``@hookimpl`` functions)
    registered as one plugin named ``"inline"``; installed entry points are not loaded."""
    plugins = Plugins(strict=strict, **kwargs)
    if builtins:
        plugins.load_builtins()
    if impls:
        plugins.register(module_plugin("inline", *impls), name="inline")
    return plugins


def build_context(tmp_path: Path, name: str = "test", settings: Settings | None = None) -> BuildContext:
    """A :class:`BuildContext` rooted in a test's temporary directory."""
    return BuildContext(name=name, state_dir=tmp_path / name, settings=settings or Settings())


class MemoryChatChannel(ChatChannel):
    """A channel held in memory: tests push inbound text with :meth:`deliver` and read what the
    agent sent from ``sent``."""

    capabilities = ChannelCapabilities(text_limit=4000, typing=True, groups=True)

    def __init__(self, config: Any = None, ctx: BuildContext | None = None, *, name: str = "memory") -> None:
        self.name = ctx.name if ctx else name
        self.account = ctx.account if ctx else "default"
        self.config = config
        self.running = False
        """True while ``run`` is up (tests check that a replaced channel was stopped)."""
        self.sent: list[OutboundMessage] = []
        self.typing_in: list[str] = []
        self._send_in, self._recv_in = trio.open_memory_channel[InboundMessage](100)
        self._counter = 0

    async def deliver(
        self,
        text: str,
        *,
        sender: str = "user-1",
        chat_type: str = "dm",
        chat_id: str | None = None,
        message_id: str | None = None,
    ) -> None:
        self._counter += 1
        await self._send_in.send(
            InboundMessage(
                channel=self.name,
                account=self.account,
                sender=sender,
                chat_type=chat_type,  # type: ignore[arg-type]
                chat_id=chat_id or sender,
                text=text,
                message_id=message_id or f"m{self._counter}",
                timestamp=datetime.now(UTC),
            )
        )

    async def run(
        self,
        inbox: trio.MemorySendChannel[InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        self.running = True
        try:
            task_status.started()
            async for message in self._recv_in:
                await inbox.send(message)
        finally:
            self.running = False

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append(message)
        return f"out{len(self.sent)}"

    async def set_typing(self, target: str) -> None:
        self.typing_in.append(target)


class FakeModelProvider(ModelProvider):
    """Answers from a script: each request pops the next list of events, or the next exception
    to raise (default: echo the last message). An exception inside a list is raised mid-stream."""

    def __init__(
        self,
        script: Iterable[list[StreamEvent | Exception] | Exception] = (),
        *,
        profiles: Iterable[str] = (),
    ) -> None:
        self.script = list(script)
        self.profiles = [AuthProfile(id=p, api_key=f"key-{p}") for p in profiles]
        self.requests: list[ModelRequest] = []
        self.auths: list[AuthProfile | None] = []

    async def stream(  # type: ignore[override]
        self, request: ModelRequest, *, auth: AuthProfile | None = None
    ) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        self.auths.append(auth)
        if self.script:
            events = self.script.pop(0)
            if isinstance(events, Exception):
                raise events
        else:
            last = request.messages[-1].content if request.messages else ""
            events = [TextDelta(f"echo: {last}"), Usage(len(last), len(last) + 6), Done("end")]
        for event in events:
            await trio.lowlevel.checkpoint()
            if isinstance(event, Exception):
                raise event
            yield event

    async def list_models(self) -> list[str]:
        return ["fake"]

    def auth_profiles(self) -> list[AuthProfile]:
        return list(self.profiles)


class ListLogSink(LogSink):
    """Keeps every record in ``records``."""

    def __init__(self, config: Any = None, ctx: BuildContext | None = None) -> None:
        self.records: list[LogRecord] = []

    def emit(self, record: LogRecord) -> None:
        self.records.append(record)

    def statistics(self) -> dict[str, int]:
        return {"emitted": len(self.records)}


class MemoryCacheBackend(CacheBackend):
    """A dict with expiry times from ``trio.current_time()`` (so ``MockClock`` drives it)."""

    def __init__(self, config: Any = None, ctx: BuildContext | None = None) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and trio.current_time() >= expires:
            del self._data[key]
            return None
        return value

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self._data[key] = (value, None if ttl is None else trio.current_time() + ttl)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def clear(self, prefix: str = "") -> int:
        doomed = [k for k in self._data if k.startswith(prefix)]
        for key in doomed:
            del self._data[key]
        return len(doomed)


__all__ = [
    "FakeModelProvider",
    "ListLogSink",
    "MemoryCacheBackend",
    "MemoryChatChannel",
    "build_context",
    "make_plugins",
]

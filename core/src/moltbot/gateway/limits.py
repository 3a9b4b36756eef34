"""Per-connection request rate limiting, per-method call windows, and the idempotency cache."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from moltbot.interfaces.rpc import RpcError


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; ``take`` answers 0 or the wait in seconds."""

    __slots__ = ("burst", "clock", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = trio.current_time) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.clock = clock
        self.stamp = clock()

    def take(self) -> float:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class CallWindows:
    """At most ``n`` calls of a method per ``seconds`` for each client (sliding window), for
    methods whose :class:`moltbot.MethodSpec` sets ``rate_limit``."""

    def __init__(self, clock: Callable[[], float] = trio.current_time) -> None:
        self.clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = {}

    def admit(self, method: str, client: str, n: int, seconds: float) -> float:
        """Record a call and answer 0, or refuse it and answer the seconds until a slot frees."""
        now = self.clock()
        calls = self._calls.setdefault((method, client), deque())
        while calls and calls[0] <= now - seconds:
            calls.popleft()
        if len(calls) >= n:
            return calls[0] + seconds - now
        calls.append(now)
        if len(self._calls) > 10_000:  # forget idle clients so the table stays small
            self._calls = {k: v for k, v in self._calls.items() if v and v[-1] > now - seconds}
        return 0.0


class _Entry:
    __slots__ = ("done", "error", "expires", "payload")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.payload: Any = None
        self.error: RpcError | None = None
        self.expires = 0.0


class IdempotencyCache:
    """Remembers the outcome of side-effecting calls by ``(method, idempotencyKey)`` for ``ttl``
    seconds; a repeat gets the first outcome, a concurrent repeat waits for it."""

    def __init__(
        self, *, ttl: float = 300.0, max_entries: int = 5000, clock: Callable[[], float] = trio.current_time
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    async def run(self, method: str, key: str, call: Callable[[], Awaitable[Any]]) -> Any:
        now = self.clock()
        entry = self._entries.get((method, key))
        if entry is not None and (not entry.done.is_set() or entry.expires > now):
            await entry.done.wait()
            if entry.error is not None:
                raise entry.error
            return entry.payload
        entry = _Entry()
        self._entries[(method, key)] = entry
        self._entries.move_to_end((method, key))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        try:
            entry.payload = await call()
        except RpcError as exc:
            entry.error = exc
            raise
        except BaseException:
            # not an answer the client saw: waiters are told to retry, and a retry runs again
            entry.error = RpcError(
                "UNAVAILABLE", "the call with this idempotencyKey was interrupted", retryable=True
            )
            self._entries.pop((method, key), None)
            raise
        finally:
            entry.expires = self.clock() + self.ttl
            entry.done.set()
        return entry.payload

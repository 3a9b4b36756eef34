"""Keep one channel running: the restart policy for every channel lives here and nowhere else.

A failed ``run`` restarts after ``initial * factor**n`` seconds (n = consecutive failures),
jittered by ±``jitter`` and capped at ``cap``; after ``degraded_after`` failures in a row the
channel reports ``degraded`` but keeps retrying. A run that stayed up ``stable_after`` seconds
resets the count. :class:`ChannelFatalError` stops the channel for good (``stopped``) with its
reason shown in status and the log: a logged-out or taken-over account needs the operator.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import trio
from loguru import logger

from moltbot.interfaces.channel import ChannelFatalError, ChatChannel, InboundMessage

State = Literal["starting", "running", "backoff", "degraded", "stopped"]


@dataclass(frozen=True)
class RestartPolicy:
    initial: float = 2.0
    factor: float = 1.8
    cap: float = 30.0
    jitter: float = 0.25
    degraded_after: int = 12
    stable_after: float = 60.0

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before restart number ``failures`` (1 = after the first failure)."""
        base = min(self.cap, self.initial * self.factor ** max(0, failures - 1))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return min(self.cap, base * (1 + spread))


@dataclass
class ChannelStatus:
    """What ``channels.status`` shows for one channel."""

    name: str
    state: State = "starting"
    failures: int = 0
    restarts: int = 0
    last_error: str | None = None
    retry_at: float | None = None
    """Wall-clock time of the next restart while waiting for one."""
    since: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "ok": self.state == "running",
            "failures": self.failures,
            "restarts": self.restarts,
            "lastError": self.last_error,
            "retryInMs": None if self.retry_at is None else max(0, int((self.retry_at - time.time()) * 1000)),
            "since": self.since,
        }


def _unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) nursery exception groups, else ``exc`` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _set(status: ChannelStatus, state: State) -> None:
    if status.state != state:
        status.state = state
        status.since = time.time()


async def supervise(
    channel: ChatChannel,
    inbox: trio.MemorySendChannel[InboundMessage],
    status: ChannelStatus,
    policy: RestartPolicy,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run ``channel`` until cancelled (or a fatal error), restarting it as ``policy`` says.

    Reports started at once: a channel that cannot connect must not hold up the gateway.
    ``inbox`` belongs to this supervisor and is closed when it ends.
    """
    task_status.started()
    async with inbox:
        await _restart_loop(channel, inbox, status, policy)


async def _restart_loop(
    channel: ChatChannel,
    inbox: trio.MemorySendChannel[InboundMessage],
    status: ChannelStatus,
    policy: RestartPolicy,
) -> None:
    while True:
        _set(status, "starting")
        started_at: float | None = None
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(channel.run, inbox)
                started_at = trio.current_time()
                _set(status, "running")
                status.retry_at = None
                logger.info("channel {} is running", status.name)
        except Exception as group:
            exc = _unwrap(group)
            if isinstance(exc, ChannelFatalError):
                status.last_error = exc.reason
                _set(status, "stopped")
                logger.error(
                    "channel {} stopped and will not be restarted: {} (fix it; a config change restarts it)",
                    status.name,
                    exc.reason,
                )
                return
            status.last_error = f"{type(exc).__name__}: {exc}"
        else:
            status.last_error = "run() returned"
        if started_at is not None and trio.current_time() - started_at >= policy.stable_after:
            status.failures = 0
        status.failures += 1
        status.restarts += 1
        delay = policy.delay(status.failures)
        status.retry_at = time.time() + delay
        _set(status, "degraded" if status.failures >= policy.degraded_after else "backoff")
        logger.warning(
            "channel {} failed ({}); restart {} in {:.1f} s",
            status.name,
            status.last_error,
            status.restarts,
            delay,
        )
        await trio.sleep(delay)

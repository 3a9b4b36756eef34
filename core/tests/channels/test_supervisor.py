"""The restart policy (security test T30): backoff, degraded, fatal stop, others unaffected."""

import random

import trio
import trio.testing

from moltbot.channels.supervisor import ChannelStatus, RestartPolicy, supervise
from moltbot.interfaces.channel import ChannelFatalError, InboundMessage
from moltbot.testing import MemoryChatChannel


class Flaky(MemoryChatChannel):
    """Fails its first ``failures`` starts, then raises ``then`` (or runs normally)."""

    def __init__(self, failures: int, then: Exception | None = None) -> None:
        super().__init__(name="flaky")
        self.failures = failures
        self.then = then
        self.starts: list[float] = []

    async def run(self, inbox, *, task_status=trio.TASK_STATUS_IGNORED):  # type: ignore[no-untyped-def]
        self.starts.append(trio.current_time())
        if len(self.starts) <= self.failures:
            raise ConnectionError("connection reset by fake peer")
        if self.then is not None:
            raise self.then
        await super().run(inbox, task_status=task_status)


def test_delays_grow_with_jitter_and_cap() -> None:
    policy = RestartPolicy()
    rng = random.Random(7)
    for n, base in [(1, 2.0), (2, 3.6), (3, 6.48)]:
        assert base * 0.75 <= policy.delay(n, rng) <= base * 1.25
    assert all(policy.delay(n, rng) <= 30.0 for n in range(1, 40))


async def test_restarts_with_backoff_then_degraded_then_recovers(
    autojump_clock: trio.testing.MockClock,
) -> None:
    channel = Flaky(failures=13)
    status = ChannelStatus("flaky")
    send, recv = trio.open_memory_channel[InboundMessage](10)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervise, channel, send, status, RestartPolicy())
        while status.state != "degraded":
            await trio.sleep(1)
        assert status.failures == 12
        while status.state != "running":
            await trio.sleep(1)
        await channel.deliver("after recovery")
        assert (await recv.receive()).text == "after recovery"
        nursery.cancel_scope.cancel()
    gaps = [b - a for a, b in zip(channel.starts, channel.starts[1:], strict=False)]
    assert 1.5 <= gaps[0] <= 2.5
    assert max(gaps) <= 30.001 and gaps[-1] >= 22.5
    assert status.last_error and "connection reset" in status.last_error


async def test_fatal_error_stops_without_retry_and_others_keep_working(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bad = Flaky(failures=0, then=ChannelFatalError("logged out: scan the QR code again"))
    good = MemoryChatChannel(name="good")
    bad_status, good_status = ChannelStatus("bad"), ChannelStatus("good")
    send, recv = trio.open_memory_channel[InboundMessage](10)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervise, bad, send.clone(), bad_status, RestartPolicy())
        await nursery.start(supervise, good, send, good_status, RestartPolicy())
        await trio.sleep(300)
        assert bad_status.state == "stopped" and len(bad.starts) == 1
        assert bad_status.to_json()["lastError"] == "logged out: scan the QR code again"
        await good.deliver("still here")
        assert (await recv.receive()).text == "still here"
        assert good_status.state == "running"
        nursery.cancel_scope.cancel()

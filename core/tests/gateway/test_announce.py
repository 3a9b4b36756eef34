"""Presence changes are merged into at most one event a second; health goes out every minute."""

from __future__ import annotations

from typing import Any

import trio

from moltbot.gateway.announce import HEALTH_INTERVAL, PRESENCE_INTERVAL, Announcer


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str | None]] = []

    def __call__(self, event: str, payload: dict[str, Any], *, scope: str | None) -> int:
        self.sent.append((event, payload, scope))
        return 1

    def of(self, event: str) -> list[dict[str, Any]]:
        return [p for e, p, _ in self.sent if e == event]


async def test_bursts_of_presence_changes_become_one_event(autojump_clock: Any) -> None:
    recorder = Recorder()
    clients = ["gateway"]
    announcer = Announcer(recorder, lambda: [{"client": c} for c in clients], lambda: {"ok": True})
    async with trio.open_nursery() as nursery:
        await nursery.start(announcer.run)
        for name in ("a", "b", "c"):
            clients.append(name)
            announcer.presence_changed()
        await trio.sleep(0.1)
        assert len(recorder.of("presence")) == 1
        assert len(recorder.of("presence")[0]["presence"]) == 4
        clients.append("d")
        announcer.presence_changed()
        await trio.sleep(PRESENCE_INTERVAL / 2)
        assert len(recorder.of("presence")) == 1  # not before the interval is over
        await trio.sleep(PRESENCE_INTERVAL)
        latest = recorder.of("presence")[-1]
        assert len(recorder.of("presence")) == 2 and latest["stateVersion"]["presence"] == 4
        assert all(scope is None for e, _, scope in recorder.sent if e == "presence")  # to everyone
        nursery.cancel_scope.cancel()


async def test_health_is_announced_every_interval(autojump_clock: Any) -> None:
    recorder = Recorder()
    announcer = Announcer(recorder, list, lambda: {"ok": True, "ts": trio.current_time()})
    async with trio.open_nursery() as nursery:
        await nursery.start(announcer.run)
        await trio.sleep(HEALTH_INTERVAL * 2 + 1)
        nursery.cancel_scope.cancel()
    health = recorder.of("health")
    assert [h["stateVersion"]["health"] for h in health] == [1, 2]
    assert all(scope == "operator.read" for e, _, scope in recorder.sent if e == "health")
    assert announcer.state_version() == {"presence": 0, "health": 2}

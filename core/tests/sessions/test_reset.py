"""Reset policies under a fake clock, and what a reset leaves on disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from moltbot.config.model import ResetByType, ResetConfig, SessionConfig
from moltbot.sessions import entries as E
from moltbot.sessions.reset import expiry_reason, policy_for

from .helpers import FakeClock, open_store

TZ = timezone(timedelta(hours=2))  # "local time" of the fake clock
DM = "agent:main:telegram:dm:42"
GROUP = "agent:main:telegram:group:-100"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("last", "now", "expired"),
    [
        (at(1, 3, 59), at(1, 4, 0), True),  # crossed 04:00
        (at(1, 4, 1), at(2, 3, 59), False),  # not yet the next 04:00
        (at(1, 4, 1), at(2, 4, 0), True),
        (at(1, 23, 0), at(2, 1, 0), False),  # midnight is not the boundary
        (at(1, 5).astimezone(UTC), at(1, 6), False),  # stored in UTC, boundary is local 04:00
    ],
)
def test_daily_reset_happens_at_the_local_hour(last, now, expired):
    policy = ResetConfig(mode="daily", at_hour=4)
    assert (expiry_reason(policy, last.isoformat(), now) == "daily") is expired


def test_idle_and_daily_whichever_expires_first():
    idle = ResetConfig(mode="idle", idle_minutes=90)
    assert expiry_reason(idle, at(1, 10).isoformat(), at(1, 11, 29)) is None
    assert expiry_reason(idle, at(1, 10).isoformat(), at(1, 11, 30)) == "idle"
    both = ResetConfig(mode="daily", at_hour=4, idle_minutes=90)
    assert expiry_reason(both, at(1, 10).isoformat(), at(1, 11, 30)) == "idle"
    assert expiry_reason(both, at(1, 3, 30).isoformat(), at(1, 4, 10)) == "daily"
    assert expiry_reason(ResetConfig(), at(1, 1).isoformat(), at(9, 1)) is None


def test_idle_mode_requires_minutes():
    with pytest.raises(ValueError, match="idleMinutes"):
        SessionConfig.model_validate({"reset": {"mode": "idle"}})


def test_reset_by_type_overrides_the_default():
    config = SessionConfig(
        reset=ResetConfig(mode="daily"),
        reset_by_type=ResetByType(group=ResetConfig(mode="idle", idle_minutes=5)),
    )
    assert policy_for(config, GROUP).mode == "idle"
    assert policy_for(config, DM).mode == "daily"
    assert policy_for(config, "agent:main:main").mode == "daily"


async def test_daily_reset_starts_a_new_session_and_keeps_the_old_transcript(tmp_path):
    clock = FakeClock(at(1, 9))
    config = SessionConfig(reset=ResetConfig(mode="daily", at_hour=4))
    store = await open_store(tmp_path / "s", config=config, clock=clock)
    first = await store.session(DM, origin={"channel": "telegram", "chatType": "dm"})
    await first.append(E.message("user", "good morning"))

    clock.advance(hours=18)  # 03:00 next day: same session
    assert (await store.session(DM)).id == first.id
    clock.advance(hours=1, minutes=1)  # 04:01: stale
    second = await store.session(DM)
    assert second.id != first.id
    assert second.header["previousSessionId"] == first.id
    assert second.meta.channel == "telegram"
    assert second.context().entries == []

    old_lines = [json.loads(x) for x in first.path.read_text().splitlines()]
    assert old_lines[1]["content"] == "good morning"
    assert old_lines[-1] | {"id": 0, "parentId": 0, "timestamp": 0} == {
        "type": "reset",
        "reason": "daily",
        "nextSessionId": second.id,
        "id": 0,
        "parentId": 0,
        "timestamp": 0,
    }
    reopened = await open_store(tmp_path / "s", config=config, clock=clock)
    assert reopened.meta(DM).session_id == second.id


async def test_system_events_do_not_extend_freshness(tmp_path):
    clock = FakeClock(at(1, 9))
    config = SessionConfig(reset=ResetConfig(mode="idle", idle_minutes=60))
    store = await open_store(tmp_path / "s", config=config, clock=clock)
    session = await store.session(DM)
    await session.append(E.message("user", "hi"))
    clock.advance(minutes=50)
    await session.append(E.message("system", "heartbeat: nothing to report"))
    clock.advance(minutes=15)
    assert (await store.session(DM)).id != session.id


async def test_a_session_without_messages_never_expires(tmp_path):
    clock = FakeClock(at(1, 9))
    config = SessionConfig(reset=ResetConfig(mode="idle", idle_minutes=1))
    store = await open_store(tmp_path / "s", config=config, clock=clock)
    session = await store.session(DM)
    clock.advance(days=3)
    assert (await store.session(DM)).id == session.id


async def test_manual_reset_twice_without_time_passing(tmp_path):
    clock = FakeClock(at(1, 9))  # frozen: all three sessions share createdAt
    store = await open_store(tmp_path / "s", clock=clock)
    ids = [(await store.session(DM)).id]
    ids.append((await store.reset(DM)).id)
    ids.append((await store.reset(DM, reason="new")).id)
    assert len(set(ids)) == 3 and store.meta(DM).session_id == ids[-1]
    (tmp_path / "s" / "sessions.json").unlink()
    rebuilt = await open_store(tmp_path / "s", clock=clock)
    assert rebuilt.meta(DM).session_id == ids[-1]  # the previousSessionId chain decides
    assert len(list((tmp_path / "s").glob("*.jsonl"))) == 3

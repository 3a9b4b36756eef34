"""The Gateway session against the fake: heartbeats, resume after a drop (no message lost, none
answered twice), RECONNECT, INVALID_SESSION, zombie connections and the fatal close codes."""

from pathlib import Path

import pytest
import trio

import moltbot

from .fake_discord import FakeDiscord
from .harness import channel_for, discord_config, eventually, running, stack, started_fake

OPEN = {"dmPolicy": "open", "allowFrom": ["*"]}


def ops(fake: FakeDiscord, n: int) -> list[int]:
    """The ops connection ``n`` received, heartbeats left out."""
    return [p["op"] for p in fake.gateway.connections[n].received if p["op"] != 1]


async def connected(fake: FakeDiscord, count: int) -> None:
    """Wait until connection number ``count`` (1-based) identified or resumed and is the live one."""

    def ready() -> bool:
        conns = fake.gateway.connections
        return len(conns) == count and conns[-1].session is not None and fake.gateway.live == [conns[-1]]

    await eventually(ready, f"connection {count}")


async def test_heartbeats_carry_the_seq_and_acks_keep_the_connection(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery)
    fake.gateway.heartbeat_interval = 50
    async with running(moltbot_home, fake, **OPEN) as s:
        fake.dm("hello")
        await eventually(lambda: fake.sent() == ["echo: hello"], "the reply")
        conn = fake.gateway.connections[0]
        session = conn.session
        assert session is not None
        await eventually(lambda: len(conn.heartbeats) >= 5, "five heartbeats")
        await eventually(lambda: conn.heartbeats[-1][1] == session.seq, "a heartbeat with the last seq")
        assert len(fake.gateway.connections) == 1 and s.status()["restarts"] == 0
        identify = conn.received[[p["op"] for p in conn.received].index(2)]["d"]
        assert identify["intents"] == (1 << 9) | (1 << 12) | (1 << 15)
        assert identify["token"] == fake.token and identify["properties"]["browser"] == "moltbot"


async def test_a_dropped_connection_resumes_and_replays_what_was_missed(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN) as s:
        first = fake.dm("one")
        await eventually(lambda: fake.sent() == ["echo: one"], "the first reply")
        session = fake.gateway.connections[0].session
        assert session is not None
        gateway = s.service.get("discord", "default").channel.gateway
        await eventually(lambda: gateway.seq == session.seq, "the bot's own reply handled (and skipped)")
        seq_before = session.seq
        await fake.gateway.drop()
        fake.dm("two")  # sent while the bot is disconnected: kept in the session
        await eventually(lambda: fake.sent() == ["echo: one", "echo: two"], "the missed message's reply")
        resumed = fake.gateway.connections[1]
        assert resumed.path == "/resume/" and ops(fake, 1) == [6]
        assert resumed.received[-1]["d"]["session_id"] == session.id
        assert resumed.received[-1]["d"]["seq"] == seq_before
        # Discord may send an event twice: the channels service drops the duplicate
        fake.gateway.redispatch({"op": 0, "t": "MESSAGE_CREATE", "d": first})
        fake.dm("three")
        await eventually(lambda: len(fake.sent()) == 3, "the third reply")
        assert [c.text for c in s.agent.calls] == ["one", "two", "three"]
        assert fake.sent() == ["echo: one", "echo: two", "echo: three"]
        assert sum(ops(fake, i).count(2) for i in range(len(fake.gateway.connections))) == 1


async def test_reconnect_and_resumable_invalid_session_resume_at_once(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN) as s:
        await fake.gateway.reconnect()
        await connected(fake, 2)
        assert fake.gateway.connections[0].closed_with == 4000  # not 1000: the session stays resumable
        await fake.gateway.invalidate(resumable=True)
        await connected(fake, 3)
        assert ops(fake, 1) == [6] and ops(fake, 2) == [6]
        fake.dm("still here?")
        await eventually(lambda: fake.sent() == ["echo: still here?"], "the reply")
        assert s.status()["restarts"] == 0 and len(fake.gateway.sessions) == 1


async def test_ended_sessions_identify_afresh(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN):
        await fake.gateway.invalidate(resumable=False)
        await connected(fake, 2)
        assert ops(fake, 1) == [2]
        await fake.gateway.close(4009, "Session timed out")
        await connected(fake, 3)
        assert ops(fake, 2) == [2] and fake.gateway.connections[2].path == "/"
        fake.dm("new session")
        await eventually(lambda: fake.sent() == ["echo: new session"], "the reply")


async def test_a_resume_of_a_forgotten_session_identifies_again(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN) as s:
        fake.gateway.sessions.clear()  # Discord no longer knows the session
        await fake.gateway.drop()
        await connected(fake, 3)
        assert ops(fake, 1) == [6] and ops(fake, 2) == [2]  # RESUME answered by op 9 false
        fake.dm("after a new session")
        await eventually(lambda: fake.sent() == ["echo: after a new session"], "the reply")
        assert s.status()["state"] == "running"


async def test_a_zombie_connection_is_closed_and_resumed(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    fake.gateway.heartbeat_interval = 50
    fake.gateway.ack = False
    async with stack(moltbot_home, discord_config(fake, **OPEN)) as s:
        await eventually(
            lambda: bool(fake.gateway.connections) and fake.gateway.connections[0].closed_with == 4000,
            "the zombie closed",
        )
        fake.gateway.ack = True
        conns = fake.gateway.connections

        def resumed() -> bool:
            return len(conns) >= 2 and conns[-1].session is not None and fake.gateway.live == [conns[-1]]

        await eventually(resumed, "a resumed connection")
        assert ops(fake, len(conns) - 1) == [6]
        assert "acknowledge a heartbeat" in (s.status()["lastError"] or "")


@pytest.mark.parametrize(
    ("code", "expected"),
    [(4004, "close 4004 Authentication failed"), (4013, "Invalid intent"), (4011, "Sharding required")],
)
async def test_fatal_close_codes_stop_the_channel(
    moltbot_home: Path, nursery: trio.Nursery, code: int, expected: str
) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN) as s:
        await fake.gateway.close(code)
        await eventually(lambda: s.state() == "stopped", "stopped")
        assert expected in s.status()["lastError"] and s.status()["restarts"] == 0
        assert s.service.status()["degraded"] == ["discord"]


async def test_identify_refused_for_the_token_or_a_privileged_intent(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery)
    fake.gateway.token = "reset-in-the-developer-portal"
    inbox, _ = trio.open_memory_channel[moltbot.InboundMessage](10)
    with pytest.raises(moltbot.ChannelFatalError, match="4004"):
        await channel_for(fake, tmp_path).run(inbox)
    fake.gateway.token = fake.token
    fake.gateway.privileged_allowed = 0
    with pytest.raises(moltbot.ChannelFatalError, match="enable MESSAGE CONTENT INTENT"):
        await channel_for(fake, tmp_path).run(inbox)
    # without the privileged intent the bot still connects (and hears DMs and mentions)
    async with trio.open_nursery() as inner:
        await inner.start(channel_for(fake, tmp_path, intents=(1 << 9) | (1 << 12)).run, inbox)
        inner.cancel_scope.cancel()


async def test_a_bad_token_stops_the_channel_at_discovery(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    async with stack(moltbot_home, discord_config(fake, botToken="x" * 30 + ".not-the-token")) as s:
        await eventually(lambda: s.state() == "stopped", "stopped on 401")
        assert "401" in s.status()["lastError"] and fake.gateway.connections == []

"""Socket Mode against the fake: every envelope acknowledged, reconnection when Slack asks for
it without losing events, redeliveries answered once, outages and fatal answers."""

from pathlib import Path

import moltbot_slack.channel as channel_module
import pytest
import trio

from moltbot.channels.journal import InboundJournal

from .fake_slack import BOT_USER, GENERAL, USER, FakeSlack
from .harness import build_channel, eventually, next_message, running, slack_config, stack


async def test_every_envelope_is_acknowledged(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        sent = [fake.user_says(f"message {i}") for i in range(3)]
        fake.bot_says("another app talking", channel=GENERAL)
        received = [await next_message(inbox) for _ in sent]
        await eventually(lambda: not fake.socket.pending, "every envelope acknowledged")
    assert [m.text for m in received] == ["message 0", "message 1", "message 2"]
    assert len(fake.socket.acks) == 4 and fake.socket.redeliveries == 0
    assert [c.token for c in fake.calls if c.method == "apps.connections.open"] == [fake.app_token]


async def test_refresh_reconnects_without_losing_events(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        fake.user_says("before")
        assert (await next_message(inbox)).text == "before"
        fake.socket.refresh()
        fake.user_says("during")  # waits for the next connection
        fake.user_says("after")
        texts = [(await next_message(inbox)).text for _ in range(2)]
        await eventually(lambda: fake.socket.connects == 2 and not fake.socket.pending, "a second connection")
        fake.socket.refresh("warning")
        fake.user_says("third connection")
        assert (await next_message(inbox)).text == "third connection"
    assert texts == ["during", "after"] and fake.socket.connects == 3 and fake.socket.redeliveries == 0
    assert sum(c.method == "apps.connections.open" for c in fake.calls) == 3


async def test_lost_acknowledgements_are_answered_once(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    fake.socket.redeliver_after, fake.socket.lose_acks = 0.2, 2
    await nursery.start(fake.run)
    async with stack(moltbot_home, slack_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        fake.user_says("are you there?")
        await eventually(lambda: len(fake.messages) == 1, "the reply")
        await eventually(
            lambda: fake.socket.redeliveries == 2 and not fake.socket.pending, "the redeliveries acknowledged"
        )
        await trio.sleep(0.3)
        assert [c.text for c in s.agent.calls] == ["are you there?"] and len(fake.messages) == 1
        assert fake.sent_texts() == ["echo: are you there?"]


async def test_dropped_connection_restarts_and_catches_up(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, slack_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running" and fake.socket.connects == 1, "running")
        fake.socket.drop_connections()
        await eventually(lambda: s.status()["restarts"] == 1, "a restart")
        fake.user_says("sent while reconnecting")
        await eventually(lambda: len(fake.messages) == 1, "the reply after the restart")
        assert fake.socket.connects == 2 and fake.socket.redeliveries == 0
        assert "connection lost" in (s.status()["lastError"] or "")


async def test_link_disabled_and_bad_tokens_stop_the_channel(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, slack_config(fake)) as s:
        await eventually(lambda: s.state() == "running" and fake.socket.connects == 1, "running")
        fake.socket.refresh("link_disabled")
        await eventually(lambda: s.state() == "stopped", "stopped on link_disabled")
        assert "link_disabled" in s.status()["lastError"] and s.status()["restarts"] == 0
    async with stack(moltbot_home / "b", slack_config(fake, appToken="xapp-1-A0FAKE-revoked")) as s:
        await eventually(lambda: s.state() == "stopped", "stopped on a bad app token")
        assert "appToken" in s.status()["lastError"] and "invalid_auth" in s.status()["lastError"]
    async with stack(moltbot_home / "c", slack_config(fake, botToken="xoxb-revoked-000")) as s:
        await eventually(lambda: s.state() == "stopped", "stopped on a bad bot token")
        assert "botToken" in s.status()["lastError"]
    assert fake.bot_token not in str(fake.calls[-1].params)
    assert all(USER not in c.token for c in fake.calls)


async def test_a_full_queue_leaves_the_event_to_slack_and_the_journal(
    tmp_path: Path, nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    monkeypatch.setattr(channel_module, "QUEUE", 1)
    channel = build_channel(fake, tmp_path / "ws")
    channel.bot_user = BOT_USER

    def dm(text: str, ts: str) -> dict:
        event = {"type": "message", "text": text, "user": USER, "ts": ts, "channel": f"D0{USER}"}
        return fake.payload({**event, "channel_type": "im", "event_ts": ts})

    assert channel.accept(dm("one", "1.000001"))
    assert channel.accept(dm("one", "1.000001"))  # a redelivery of what waits in the queue
    assert not channel.accept(dm("two", "1.000002"))  # full: unacknowledged, Slack sends it again
    async with running(channel) as inbox:
        texts = sorted([(await next_message(inbox)).text, (await next_message(inbox)).text])
        with trio.move_on_after(0.2):
            extra = await inbox.receive()
            raise AssertionError(f"forwarded twice: {extra.text}")
    assert texts == ["one", "two"]  # "two" from the journal, "one" from the queue
    assert not InboundJournal(tmp_path / "state-default" / "slack" / "accepted.log").pending()

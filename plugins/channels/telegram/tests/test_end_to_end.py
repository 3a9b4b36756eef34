"""Telegram end to end: fake Bot API -> channel -> router -> echo agent -> reply at the fake."""

from pathlib import Path

import trio
from click.testing import CliRunner

from moltbot.channels.testing import settled
from moltbot.cli import cli
from moltbot.interfaces.channel import Origin

from .fake_telegram import FakeTelegram
from .harness import eventually, stack, telegram_config


def approve(state: Path, code: str) -> None:
    result = CliRunner().invoke(
        cli, ["--no-plugins", "--state-dir", str(state), "pairing", "approve", "telegram", code]
    )
    assert result.exit_code == 0, result.output


async def test_pair_then_chat_and_redelivery_gives_one_reply(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, telegram_config(fake)) as s:
        fake.user_says("hello bot", user_id=4242)
        await eventually(lambda: len(fake.sent()) == 1, "the pairing code")
        code = fake.sent()[0]["text"].split("Pairing code: ")[1][:8]
        assert s.agent.calls == []
        approve(moltbot_home, code)
        update = fake.user_says("what's <new> & cool?", user_id=4242)
        await eventually(lambda: len(fake.sent()) == 2, "the agent's reply")
        reply = fake.sent()[1]
        assert reply["text"] == "echo: what's &lt;new&gt; &amp; cool?" and reply["parse_mode"] == "HTML"
        assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]
        assert s.agent.calls[0].session_key == "agent:main:telegram:dm:4242"
        fake.redeliver(update)  # the server offers a confirmed update again: the offset drops it
        await trio.sleep(1.2)
    # a crash before the offset was saved: the update comes back after the restart
    (moltbot_home / "channels" / "telegram" / "offset.json").unlink()
    fake.redeliver(update)
    async with stack(moltbot_home, telegram_config(fake)) as s:
        fake.user_says("and now?", user_id=4242)
        await eventually(lambda: len(fake.sent()) == 3, "the reply to the new message")
        await trio.sleep(0.2)
        assert [c.text for c in s.agent.calls] == ["and now?"]
    assert [p["text"] for p in fake.sent()][1:] == ["echo: what's &lt;new&gt; &amp; cool?", "echo: and now?"]


async def test_offset_survives_restarts(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    config = telegram_config(fake, dmPolicy="open", allowFrom=["*"])
    async with stack(moltbot_home, config) as s:
        fake.user_says("one", user_id=1)
        await eventually(lambda: len(fake.sent()) == 1, "first reply")
        await settled(s.service)
    first = fake.user_says("two", user_id=1)  # arrives while the gateway is down
    async with stack(moltbot_home, config) as s:
        await eventually(lambda: len(fake.sent()) == 2, "the update sent during the restart")
        polls = [c.params for c in fake.calls if c.method == "getUpdates"]
        assert polls[-1]["offset"] == first["update_id"] + 1 or polls[-2]["offset"] <= first["update_id"]
        assert [c.text for c in s.agent.calls] == ["two"]


async def test_server_outage_backs_off_and_recovers(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, telegram_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        fake.go_down()
        await eventually(lambda: s.state() == "backoff", "backoff after the connection dropped")
        await trio.sleep(0.5)
        assert s.service.status()["channels"]["telegram"]["restarts"] >= 2
        fake.come_up()
        await eventually(lambda: s.state() == "running", "running again")
        fake.user_says("are you back?", user_id=7)
        await eventually(lambda: len(fake.sent()) == 1, "a reply after the outage")


async def test_bad_token_and_conflict_stop_the_channel(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, telegram_config(fake, botToken="1:not-the-token")) as s:
        await eventually(lambda: s.state() == "stopped", "stopped on 401")
        assert "401" in s.service.status()["channels"]["telegram"]["lastError"]
        assert s.service.status()["degraded"] == ["telegram"]
    fake.fail_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    async with stack(moltbot_home / "b", telegram_config(fake)) as s:
        await eventually(lambda: s.state() == "stopped", "stopped on 409")
        await trio.sleep(0.3)
        assert s.service.status()["channels"]["telegram"]["restarts"] == 0


async def test_groups_need_a_mention_and_typing_shows(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    config = telegram_config(fake, groups={"-100555": {"requireMention": True}})
    async with stack(moltbot_home, config, typing_interval=0.05) as s:
        s.agent.delay = 0.3
        group = {"chat_id": -100555, "chat_type": "supergroup"}
        fake.user_says("chatter without mention", **group)
        fake.user_says(
            "@molt_test_bot hello", entities=[{"type": "mention", "offset": 0, "length": 14}], **group
        )
        fake.user_says("reply to you", reply_to_bot=True, **group)
        fake.user_says(
            "@molt_test_bot elsewhere",
            chat_id=-100999,
            chat_type="supergroup",
            entities=[{"type": "mention", "offset": 0, "length": 14}],
        )
        await eventually(lambda: len(fake.sent()) == 2, "two replies")
        await trio.sleep(0.3)
        assert sorted(c.text for c in s.agent.calls) == ["@molt_test_bot hello", "reply to you"]
        assert s.agent.calls[0].session_key == "agent:main:telegram:group:-100555"
        typing = fake.sent("sendChatAction")
        # at least one indicator per answered message; how many refreshes fit depends on load
        assert len(typing) >= 2 and all(t == {"chat_id": -100555, "action": "typing"} for t in typing)


async def test_long_reply_is_split_at_4096_with_fences_intact(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, telegram_config(fake)) as s:
        await eventually(lambda: s.state() == "running", "running")
        code = "\n".join(f"x = {i}  # <{i}> & more" for i in range(700))
        text = "Intro text.\n\n```python\n" + code + "\n```\n\nOutro."
        await s.service.deliver(
            Origin(channel="telegram", chat_id="4242", sender="4242", message_id="4242:9"), text
        )
        sent = [p["text"] for p in fake.sent()]
        assert len(sent) >= 4  # the fake rejected none: each is valid HTML of <= 4096 characters
        assert all(t.count("<pre>") == t.count("</pre>") for t in sent)
        assert sum(t.count("# &lt;") for t in sent) == 700

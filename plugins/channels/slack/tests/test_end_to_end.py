"""Slack end to end (Socket Mode): fake Slack -> channel -> router -> echo agent -> reply at the
fake. Pairing, channel mention gating, thread replies and sessions, bots ignored, long replies."""

from pathlib import Path

import trio
from click.testing import CliRunner

from moltbot.cli import cli
from moltbot.interfaces.channel import Origin

from .fake_slack import BOT_USER, GENERAL, USER, FakeSlack
from .harness import eventually, slack_config, stack


def approve(state: Path, code: str) -> None:
    result = CliRunner().invoke(
        cli, ["--no-plugins", "--state-dir", str(state), "pairing", "approve", "slack", code]
    )
    assert result.exit_code == 0, result.output


async def test_pair_then_chat(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, slack_config(fake)) as s:
        fake.user_says("hello bot")
        await eventually(lambda: len(fake.messages) == 1, "the pairing code")
        code = fake.sent_texts()[0].split("Pairing code: ")[1][:8]
        assert f"Your slack id: {USER}" in fake.sent_texts()[0] and s.agent.calls == []
        approve(moltbot_home, code)
        fake.user_says("what's &lt;new&gt; &amp; cool? <!here>")
        await eventually(lambda: len(fake.messages) == 2, "the agent's reply")
        assert fake.sent_texts()[1] == "echo: what's <new> & cool? @here" and fake.pings == []
        assert s.agent.calls[0].session_key == f"agent:main:slack:dm:{USER}"
        assert "thread_ts" not in fake.messages[1]


async def test_channels_need_a_mention_and_replies_go_to_threads(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    config = slack_config(fake, groups={GENERAL: {"requireMention": True}})
    async with stack(moltbot_home, config) as s:
        fake.user_says("chatter without a mention", channel=GENERAL)
        fake.bot_says("another bot mentions <@U0BOT>", channel=GENERAL)
        asked = fake.user_says("what time is it?", channel=GENERAL, mention=True)  # + its app_mention
        fake.user_says("not allowed here", channel="C0ELSEWHERE", mention=True)
        await eventually(lambda: len(fake.messages) == 1, "the reply in a thread")
        reply = fake.messages[0]
        assert reply["channel"] == GENERAL and reply["thread_ts"] == asked["ts"]
        assert fake.sent_texts()[0] == "echo: @molt what time is it?"
        fake.user_says("and tomorrow?", channel=GENERAL, thread_ts=asked["ts"])  # the bot replied in it
        fake.user_says("in a bot thread", channel=GENERAL, thread_ts="1.000001", parent_user=BOT_USER)
        fake.user_says("someone else's thread", channel=GENERAL, thread_ts="2.000002")
        await eventually(lambda: len(fake.messages) == 3, "two more replies")
        await trio.sleep(0.3)
        texts = sorted(c.text for c in s.agent.calls)
        assert texts == ["@molt what time is it?", "and tomorrow?", "in a bot thread"]
        sessions = {c.text: c.session_key for c in s.agent.calls}
        thread = f"agent:main:slack:group:{GENERAL}:thread:{asked['ts']}"
        assert sessions["@molt what time is it?"] == sessions["and tomorrow?"] == thread
        assert {m["thread_ts"] for m in fake.messages[1:]} == {asked["ts"], "1.000001"}


async def test_long_replies_are_split_at_4000(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, slack_config(fake)) as s:
        await eventually(lambda: s.state() == "running", "running")
        code = "\n".join(f"x = {i}  # <{i}> & more" for i in range(700))
        text = "Intro.\n\n```python\n" + code + "\n```\n\nOutro."
        origin = Origin(
            channel="slack",
            chat_id=GENERAL,
            sender=USER,
            message_id=f"{GENERAL}:9.000009",
            thread_id="9.000009",
        )
        await s.service.deliver(origin, text)
        sent = fake.messages
        assert len(sent) >= 4 and all(len(m["text"]) <= 40_000 for m in sent)  # 4000 before escaping
        assert all(m["text"].count("```") % 2 == 0 for m in sent) and all(
            m["thread_ts"] == "9.000009" for m in sent
        )
        assert sum(t.count("# <") for t in fake.sent_texts()) == 700 and fake.pings == []

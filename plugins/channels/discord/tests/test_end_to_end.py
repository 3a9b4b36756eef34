"""Discord end to end: fake Discord -> channel -> channels service (pairing, access policy,
mention gating, dedupe) -> echo agent -> reply at the fake."""

from pathlib import Path

import trio
from click.testing import CliRunner

from moltbot.channels.media import MAX_INBOUND_BYTES
from moltbot.cli import cli
from moltbot.interfaces.channel import Origin

from .fake_discord import BOT, GUILD_CHANNEL, FakeDiscord
from .harness import discord_config, eventually, running, stack, started_fake

OPEN = {"dmPolicy": "open", "allowFrom": ["*"]}


def approve(state: Path, code: str) -> None:
    result = CliRunner().invoke(
        cli, ["--no-plugins", "--state-dir", str(state), "pairing", "approve", "discord", code]
    )
    assert result.exit_code == 0, result.output


async def test_pair_then_chat(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake) as s:
        fake.dm("hello bot", user_id="4242")
        await eventually(lambda: len(fake.sent()) == 1, "the pairing code")
        dm = fake.dm_channel("4242")
        code = fake.sent(dm)[0].split("Pairing code: ")[1][:8]
        again = fake.dm("hello again", user_id="4242")  # no second code, nothing for the agent
        await eventually(lambda: f"in:discord:default:{again['id']}" in s.service.dedupe, "handled")
        approve(moltbot_home, code)
        asked = fake.dm("what's **new**?", user_id="4242")
        await eventually(lambda: len(fake.sent()) == 2, "the agent's reply")
        assert fake.sent(dm)[1] == "echo: what's **new**?"
        assert fake.created[1]["message_reference"]["message_id"] == asked["id"]
        assert [c.text for c in s.agent.calls] == ["what's **new**?"]
        assert s.agent.calls[0].session_key == "agent:main:discord:dm:4242"
        assert s.agent.calls[0].origin is not None and s.agent.calls[0].origin.chat_id == dm


async def test_guilds_need_a_mention_and_bots_are_ignored(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    config = discord_config(fake, **OPEN, groups={GUILD_CHANNEL: {"requireMention": True}})
    async with stack(moltbot_home, config, typing_interval=0.05) as s:
        await eventually(lambda: s.state() == "running", "running")
        s.agent.delay = 0.2
        fake.say_in_guild("chatter without a mention")
        fake.say_in_guild("hello", mention_bot=True)
        await eventually(lambda: len(fake.sent()) == 1, "the reply to the mention")
        fake.say_in_guild("replying to you", reply_to=fake.created[0])
        await eventually(lambda: len(fake.sent()) == 2, "the reply to the reply")
        fake.say_in_guild("elsewhere", mention_bot=True, channel_id="1300000000000000099")
        other_bot = {"id": "1500000000000000001", "username": "otherbot", "bot": True}
        fake.say_in_guild("a bot talking", mention_bot=True, author=other_bot)
        fake.users[other_bot["id"]] = other_bot
        fake.dm("a bot in a DM", user_id=other_bot["id"])
        fake.say_in_guild("last one", mention_bot=True)
        await eventually(lambda: len(fake.sent()) == 3, "the reply to the last mention")
        assert [c.text for c in s.agent.calls] == ["@molt hello", "replying to you", "@molt last one"]
        assert s.agent.calls[0].session_key == f"agent:main:discord:group:{GUILD_CHANNEL}"
        assert fake.requests("POST", f"/channels/{GUILD_CHANNEL}/typing")
        # the bot's own replies came back over the Gateway too, and were not answered
        assert all(m["author"]["id"] == BOT["id"] for m in fake.created)


async def test_without_message_content_mentions_still_work(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    fake.gateway.privileged_allowed = 0
    groups = {"*": {"requireMention": True}}
    async with running(moltbot_home, fake, **OPEN, groups=groups, intents=(1 << 9) | (1 << 12)) as s:
        fake.say_in_guild("unseen text")
        fake.say_in_guild("seen", mention_bot=True)
        fake.dm("a DM has its text")
        await eventually(lambda: len(fake.sent()) == 2, "two replies")
        assert sorted(c.text for c in s.agent.calls) == ["@molt seen", "a DM has its text"]


async def test_attachments_are_saved_in_the_workspace(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    async with running(moltbot_home, fake, **OPEN) as s:
        dm = fake.dm_channel("4242")
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
        cat = fake.attach(dm, "cat.png", png, "image/png")
        huge = {
            **fake.attach(dm, "huge.bin", b"x", "application/octet-stream"),
            "size": MAX_INBOUND_BYTES + 1,
        }
        fake.dm("look", attachments=[cat, huge])
        await eventually(lambda: len(fake.sent()) == 1, "the reply")  # nothing in flight at the end
        text = s.agent.calls[0].text
        lines = text.splitlines()
        assert lines[0] == "look" and lines[1].startswith("[the attachment huge.bin was not downloaded: ")
        saved = lines[2].removeprefix("[image ").removesuffix("]")
        assert saved.startswith("media/inbound/discord/") and saved.endswith("-cat.png")
        assert (moltbot_home.parent / "workspace" / saved).read_bytes() == png
        assert lines[3] == f"[document {huge['url'].split('?')[0]}]"
        assert fake.downloads == [(f"/attachments/{dm}/{cat['id']}/cat.png", None)]  # no token


async def test_a_long_reply_is_split_at_2000_with_fences_intact(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = await started_fake(nursery, bucket_limit=3, bucket_window=0.3)
    async with running(moltbot_home, fake, **OPEN) as s:
        code = "\n".join(f"x = {i}  # <{i}> & *not* markdown" for i in range(250))
        text = "Intro text.\n\n```python\n" + code + "\n```\n\nOutro."
        origin = Origin(channel="discord", chat_id=GUILD_CHANNEL, sender="4242", chat_type="group")
        await s.service.deliver(origin, text)
        sent = fake.sent()
        assert len(sent) >= 4 and all(len(t) <= 2000 for t in sent)
        assert all(t.count("```") % 2 == 0 for t in sent)
        assert sum(t.count("# <") for t in sent) == 250 and sent[-1].endswith("Outro.")


async def test_two_accounts_answer_through_their_own_bot(moltbot_home: Path, nursery: trio.Nursery) -> None:
    first = await started_fake(nursery)
    second = FakeDiscord(
        token="MTIwMDAwMDAwMDAwMDAwMDAwMg.GsEcnd.another-fake-bot-token-0123", first_id=16 * 10**17
    )
    await nursery.start(second.run)
    accounts = {"home": discord_config(first), "work": discord_config(second)}
    async with stack(moltbot_home, {**OPEN, "accounts": accounts}) as s:
        await eventually(
            lambda: all(
                s.service.status()["channels"][k]["state"] == "running"
                for k in ("discord:home", "discord:work")
            ),
            "both accounts running",
        )
        first.dm("to home", user_id="1")
        second.dm("to work", user_id="1")
        await eventually(
            lambda: first.sent() == ["echo: to home"] and second.sent() == ["echo: to work"], "replies"
        )
        assert sorted((c.origin.account, c.text) for c in s.agent.calls if c.origin) == [
            ("home", "to home"),
            ("work", "to work"),
        ]

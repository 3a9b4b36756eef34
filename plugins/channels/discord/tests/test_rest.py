"""Replies over the fake REST API: the request Discord expects, rate limits waited out, the
nonce that makes a repeated send harmless, DMs opened for user ids, errors surfaced."""

from pathlib import Path

import pytest
import trio
from moltbot_discord.rest import DiscordError

import moltbot

from .fake_discord import GUILD_CHANNEL, FakeDiscord
from .harness import channel_for, started_fake


def outbound(text: str, target: str = GUILD_CHANNEL, **extra: str) -> moltbot.OutboundMessage:
    return moltbot.OutboundMessage(channel="discord", target=target, text=text, **extra)


async def test_a_reply_is_threaded_and_pings_nobody(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    asked = fake.say_in_guild("ping everyone for me", mention_bot=True)
    channel = channel_for(fake, tmp_path)
    sent_id = await channel.send(outbound("@everyone **done**", reply_to=asked["id"]))
    (call,) = fake.requests("POST", f"/channels/{GUILD_CHANNEL}/messages")
    assert call.headers["authorization"] == f"Bot {fake.token}"
    assert call.headers["user-agent"].startswith("DiscordBot (")
    assert call.body["content"] == "@everyone **done**"  # markdown is Discord's to render
    assert call.body["allowed_mentions"] == {"parse": []}
    assert call.body["message_reference"] == {"message_id": asked["id"], "fail_if_not_exists": False}
    assert fake.created[0]["id"] == sent_id and fake.created[0]["type"] == 19
    await channel.set_typing(GUILD_CHANNEL)
    assert len(fake.requests("POST", f"/channels/{GUILD_CHANNEL}/typing")) == 1


async def test_a_429_is_waited_out(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    fake.rate_limit_next(0.3)
    await channel_for(fake, tmp_path).send(outbound("after the wait"))
    first, second = fake.requests("POST", "/messages")
    assert second.at - first.at >= 0.3
    assert fake.sent() == ["after the wait"]


async def test_a_global_429_holds_every_route(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    fake.rate_limit_next(0.2, global_=True)
    channel = channel_for(fake, tmp_path)
    await channel.send(outbound("a"))
    await channel.set_typing(GUILD_CHANNEL)
    posts = fake.requests("POST", "/messages") + fake.requests("POST", "/typing")
    assert posts[-1].at - posts[0].at >= 0.2 and fake.sent() == ["a"]


async def test_an_exhausted_bucket_paces_the_next_sends(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery, bucket_limit=2, bucket_window=0.4)
    channel = channel_for(fake, tmp_path)
    for i in range(5):
        await channel.send(outbound(f"chunk {i}"))
    posts = fake.requests("POST", "/messages")
    assert fake.sent() == [f"chunk {i}" for i in range(5)]
    assert len(posts) == 5, "the client waited for the bucket instead of being refused"
    assert posts[2].at - posts[0].at >= 0.4 * 0.99


async def test_the_idempotency_key_becomes_an_enforced_nonce(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    message = outbound("only once", idempotency_key="discord:123:abcdef0123456789:0")
    first = await channel_for(fake, tmp_path).send(message)
    second = await channel_for(fake, tmp_path).send(message)  # a fresh object: no memory of it
    assert first == second and fake.sent() == ["only once"]
    body = fake.requests("POST", "/messages")[0].body
    assert len(body["nonce"]) == 25 and body["enforce_nonce"] is True


async def test_a_user_id_target_opens_the_dm_channel(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    fake.user("777")
    channel = channel_for(fake, tmp_path)
    await channel.send(outbound("you are approved", target="777"))
    await channel.send(outbound("again", target="777"))
    dm = fake.dm_channel("777")
    assert fake.sent(dm) == ["you are approved", "again"]
    assert len(fake.requests("POST", "/users/@me/channels")) == 1
    with pytest.raises(DiscordError, match="Invalid Recipient"):
        await channel.send(outbound("nobody", target="999"))


async def test_errors_are_raised(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = await started_fake(nursery)
    channel = channel_for(fake, tmp_path)
    with pytest.raises(DiscordError, match="50035"):
        await channel.send(outbound("x" * 2001))
    with pytest.raises(ValueError, match="sending files is not supported"):
        await channel.send(
            moltbot.OutboundMessage(
                channel="discord",
                target=GUILD_CHANNEL,
                media=(moltbot.Media(kind="image", ref="media/out.png"),),
            )
        )
    await channel.send(
        moltbot.OutboundMessage(
            channel="discord",
            target=GUILD_CHANNEL,
            text="see",
            media=(moltbot.Media(kind="image", ref="https://example.test/cat.png"),),
        )
    )
    assert fake.sent() == ["see\nhttps://example.test/cat.png"]
    bad = FakeDiscord(token="another-token-that-is-long-enough")
    bad_channel = channel_for(fake, tmp_path, botToken=bad.token)
    with pytest.raises(moltbot.ChannelFatalError, match="401"):
        await bad_channel.send(outbound("x"))

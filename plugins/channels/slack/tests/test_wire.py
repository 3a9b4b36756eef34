"""Normalization of real event shapes, mrkdwn rendering, and the Web API's errors."""

from pathlib import Path

import httpx
import pytest
import trio
from moltbot_slack.api import SlackError, WebApi
from moltbot_slack.normalize import normalize, readable, split_id
from moltbot_slack.render import to_mrkdwn

import moltbot

from .fake_slack import BOT_NAME, BOT_TOKEN, BOT_USER, GENERAL, USER, FakeSlack, displayed
from .harness import build_channel


def norm(fake: FakeSlack, event: dict, threads: tuple[str, ...] = ()) -> moltbot.InboundMessage | None:
    return normalize(
        fake.payload(event),
        channel="slack",
        account="work",
        bot_user=BOT_USER,
        bot_name=BOT_NAME,
        bot_threads=threads,
    )


def test_a_dm_is_a_dm_and_ids_carry_the_conversation() -> None:
    fake = FakeSlack()
    event = fake.user_says("what's &lt;new&gt; &amp; <https://example.test/a?b=1&amp;c=2|this> for <@U0ADA>?")
    message = norm(fake, event)
    assert message is not None and message.chat_type == "dm" and message.account == "work"
    assert message.chat_id == f"D0{USER}" and message.sender == USER and message.thread_id is None
    assert message.text == "what's <new> & this (https://example.test/a?b=1&c=2) for @U0ADA?"
    assert message.mentions == ("@U0ADA",) and not message.mentions_bot
    assert split_id(message.message_id) == (f"D0{USER}", event["ts"])
    assert message.timestamp.tzinfo is not None


def test_channel_messages_start_threads_and_mentions_are_found() -> None:
    fake = FakeSlack()
    top = norm(fake, fake.user_says("hello", channel=GENERAL, mention=True))
    assert top is not None and top.chat_type == "group" and top.mentions_bot
    assert top.text == f"@{BOT_NAME} hello" and top.thread_id == top.message_id.split(":")[1]
    chatter = norm(fake, fake.user_says("just chatting", channel=GENERAL))
    assert chatter is not None and not chatter.mentions_bot
    in_bot_thread = norm(
        fake, fake.user_says("follow-up", channel=GENERAL, thread_ts="1.000100", parent_user=BOT_USER)
    )
    assert in_bot_thread is not None and in_bot_thread.mentions_bot and in_bot_thread.thread_id == "1.000100"
    assert in_bot_thread.reply_to == f"{GENERAL}:1.000100"
    joined = norm(
        fake, fake.user_says("and me", channel=GENERAL, thread_ts="2.000200"), threads=("2.000200",)
    )
    assert joined is not None and joined.mentions_bot
    other = norm(fake, fake.user_says("not yours", channel=GENERAL, thread_ts="3.000300"))
    assert other is not None and not other.mentions_bot


def test_bots_edits_and_own_messages_are_skipped() -> None:
    fake = FakeSlack()
    assert norm(fake, fake.bot_says("beep")) is None
    own = {"type": "message", "text": "hi", "user": BOT_USER, "ts": "1.1", "channel": GENERAL}
    assert norm(fake, own) is None
    with_bot_id = {**fake.user_says("relay"), "bot_id": "B0RELAY"}
    assert norm(fake, with_bot_id) is None
    edited = {**fake.user_says("typo"), "subtype": "message_changed"}
    assert norm(fake, edited) is None
    joined = {**fake.user_says("<@U4242> has joined the channel"), "subtype": "channel_join"}
    assert norm(fake, joined) is None
    assert (
        normalize({"type": "url_verification"}, channel="slack", account="default", bot_user=BOT_USER) is None
    )


def test_readable_keeps_escaped_brackets_as_text() -> None:
    assert readable("&lt;@U0BOT&gt; <!here> <#C0X|general>", bot_user=BOT_USER) == "<@U0BOT> @here #general"


def test_mrkdwn_escapes_control_characters_and_translates_markdown() -> None:
    text = (
        "# Plan\n**Bold** & <!channel> <@U0ADA> <https://evil.test|click> a < b > c\n"
        "see [the docs](https://docs.example.test/x?a=1&b=2) and `x < y`\n"
        "```python\nif a < b & c:\n    pass\n```"
    )
    rendered = to_mrkdwn(text)
    shown, pings = displayed(rendered)
    assert pings == []
    assert "*Plan*\n*Bold* & <!channel> <@U0ADA> <https://evil.test|click> a < b > c" in shown
    assert "<https://docs.example.test/x?a=1&amp;b=2|the docs>" in rendered and "the docs" in shown
    assert "`x &lt; y`" in rendered and "```\nif a &lt; b &amp; c:\n    pass\n```" in rendered


async def test_rate_limits_are_waited_out(nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    fake.rate_limit_next("chat.postMessage", retry_after=1)
    fake.fail_next("chat.postMessage", "ratelimited")  # HTTP 200 without Retry-After: 1 s by default
    async with httpx.AsyncClient() as http:
        api = WebApi(http, fake.base_url, BOT_TOKEN, timeout=5)
        start = trio.current_time()
        result = await api.call("chat.postMessage", {"channel": f"D0{USER}", "text": "hi"}, json_body=True)
    assert result["ok"] and trio.current_time() - start >= 2.0
    assert [c.method for c in fake.calls] == ["chat.postMessage"] * 3 and len(fake.messages) == 1


async def test_errors_raise_and_token_errors_are_fatal(nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with httpx.AsyncClient() as http:
        api = WebApi(http, fake.base_url, BOT_TOKEN, timeout=5)
        with pytest.raises(SlackError, match="not_in_channel"):
            await api.call("chat.postMessage", {"channel": "C0ELSEWHERE", "text": "hi"}, json_body=True)
        with pytest.raises(moltbot.ChannelFatalError, match=r"invalid_auth.*channels\.slack\.botToken"):
            await WebApi(http, fake.base_url, "xoxb-revoked-0000", timeout=5).call("auth.test")
        for error in ("token_revoked", "account_inactive"):
            fake.fail_next("chat.postMessage", error)
            with pytest.raises(moltbot.ChannelFatalError, match=error):
                await api.call("chat.postMessage", {"channel": f"D0{USER}", "text": "hi"}, json_body=True)


async def test_network_errors_do_not_leak_the_token() -> None:
    async with httpx.AsyncClient() as http:
        api = WebApi(http, "http://127.0.0.1:9/api", BOT_TOKEN, timeout=2)
        with pytest.raises(ConnectionError) as info:
            await api.call("auth.test")
    assert BOT_TOKEN not in str(info.value) and "auth.test" in str(info.value)


async def test_replies_thread_in_channels_and_escape(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    channel = build_channel(fake, tmp_path / "ws")
    first = await channel.send(
        moltbot.OutboundMessage(
            channel="slack", target=GENERAL, text="a <b> & @here", reply_to=f"{GENERAL}:5.000005"
        )
    )
    await channel.send(
        moltbot.OutboundMessage(channel="slack", target=f"D0{USER}", text="dm", reply_to=f"D0{USER}:6.1")
    )
    again = await channel.send(
        moltbot.OutboundMessage(
            channel="slack", target=GENERAL, text="once", idempotency_key="k1", thread_id="7.7"
        )
    )
    assert again == await channel.send(
        moltbot.OutboundMessage(
            channel="slack", target=GENERAL, text="once", idempotency_key="k1", thread_id="7.7"
        )
    )
    linked = moltbot.Media(kind="image", ref="https://example.test/cat.png", caption="a|cat")
    await channel.send(moltbot.OutboundMessage(channel="slack", target=f"D0{USER}", media=(linked,)))
    posted = fake.messages
    assert first == f"{GENERAL}:{posted[0]['ts']}" and posted[0]["thread_ts"] == "5.000005"
    assert posted[0]["text"] == "a &lt;b&gt; &amp; @here" and posted[0]["mrkdwn"] is True
    assert "thread_ts" not in posted[1] and posted[2]["thread_ts"] == "7.7" and len(posted) == 4
    assert fake.sent_texts()[3] == "a¦cat" and fake.pings == []
    assert all(c.json_body and c.token == BOT_TOKEN for c in fake.calls)

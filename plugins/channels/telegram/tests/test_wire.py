"""Normalization of real update shapes, HTML rendering, and the Bot API error handling."""

from pathlib import Path

import httpx
import pytest
import trio
from moltbot_telegram.api import BotApi, TelegramError
from moltbot_telegram.channel import TelegramChannel
from moltbot_telegram.config import TelegramConfig
from moltbot_telegram.normalize import normalize, reply_target
from moltbot_telegram.render import to_html

import moltbot
from moltbot.testing import build_context

from .fake_telegram import BOT, TOKEN, FakeTelegram, parse_html


def norm(update: dict) -> moltbot.InboundMessage | None:
    return normalize(update, channel="telegram", bot_id=BOT["id"], bot_username=BOT["username"])


def test_mentions_use_utf16_offsets() -> None:
    fake = FakeTelegram()
    text = "👋🏽 @Molt_Test_Bot what's new? cc @someone"
    at = len("👋🏽 ".encode("utf-16-le")) // 2
    other = len("👋🏽 @Molt_Test_Bot what's new? cc ".encode("utf-16-le")) // 2
    update = fake.user_says(
        text,
        chat_id=-100555,
        chat_type="supergroup",
        entities=[
            {"type": "mention", "offset": at, "length": 14},
            {"type": "mention", "offset": other, "length": 8},
        ],
    )
    message = norm(update)
    assert message is not None and message.chat_type == "group" and message.chat_id == "-100555"
    assert message.mentions == ("@Molt_Test_Bot", "@someone") and message.mentions_bot
    assert (
        message.message_id.startswith("-100555:")
        and reply_target(message.message_id) == update["message"]["message_id"]
    )


def test_reply_to_the_bot_counts_as_a_mention_and_photos_are_media() -> None:
    fake = FakeTelegram()
    message = norm(fake.user_says("look", chat_id=-1, chat_type="group", reply_to_bot=True, photo="AgACbig"))
    assert message is not None and message.mentions_bot and message.reply_to == "-1:1"
    assert [(m.kind, m.ref, m.caption) for m in message.media] == [("image", "AgACbig", "look")]


def test_bots_and_service_messages_are_skipped() -> None:
    update = FakeTelegram().user_says("hi")
    update["message"]["from"]["is_bot"] = True
    assert norm(update) is None
    assert norm({"update_id": 1, "edited_message": {}}) is None


def test_html_rendering_escapes_everything_else() -> None:
    text = "a < b && c > d, `x<y>` **bold** <script>\n```py\nif a < b:\n    print('&')\n```\ndone"
    rendered = to_html(text)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<pre><code class=\"language-py\">if a &lt; b:\n    print('&amp;')</code></pre>" in rendered
    assert "<code>x&lt;y&gt;</code>" in rendered and "<b>bold</b>" in rendered
    parse_html(rendered)  # the fake's (Telegram's) entity parser accepts it


async def test_rate_limit_waits_retry_after(nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    async with httpx.AsyncClient() as http:
        api = BotApi(http, fake.base_url, TOKEN, timeout=5)
        start = trio.current_time()
        result = await api.call("sendMessage", {"chat_id": 1, "text": "hi"})
    assert result["text"] == "hi" and trio.current_time() - start >= 1.0
    assert len(fake.sent()) == 2


async def test_bad_requests_raise_and_fatal_codes_stop(nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with httpx.AsyncClient() as http:
        api = BotApi(http, fake.base_url, TOKEN, timeout=5)
        with pytest.raises(TelegramError, match="message text is empty"):
            await api.call("sendMessage", {"chat_id": 1, "text": ""})
        with pytest.raises(moltbot.ChannelFatalError, match="401"):
            await BotApi(http, fake.base_url, "1:wrong-token-xyz", timeout=5).call("getMe")
        fake.fail_next(
            "getUpdates",
            409,
            "Conflict: terminated by other getUpdates request",
        )
        with pytest.raises(moltbot.ChannelFatalError, match="another process polls this bot"):
            await api.call("getUpdates", {"timeout": 0})


async def test_network_errors_do_not_leak_the_token() -> None:
    async with httpx.AsyncClient() as http:
        api = BotApi(http, "http://127.0.0.1:9", TOKEN, timeout=2)
        with pytest.raises(ConnectionError) as info:
            await api.call("getMe")
    assert TOKEN not in str(info.value) and "getMe" in str(info.value)


async def test_media_is_sent_by_url(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    config = TelegramConfig.model_validate({"botToken": TOKEN, "apiBaseUrl": fake.base_url})
    channel = TelegramChannel(config, build_context(tmp_path, "telegram"))
    media = (
        moltbot.Media(kind="image", ref="https://example.test/cat.jpg", caption="a <cat>"),
        moltbot.Media(kind="document", ref="https://example.test/report.pdf"),
    )
    await channel.send(
        moltbot.OutboundMessage(channel="telegram", target="4242", media=media, reply_to="4242:17")
    )
    photo, document = fake.sent("sendPhoto")[0], fake.sent("sendDocument")[0]
    assert photo["photo"] == "https://example.test/cat.jpg" and photo["caption"] == "a &lt;cat&gt;"
    assert photo["reply_parameters"] == {"message_id": 17, "allow_sending_without_reply": True}
    assert document["document"] == "https://example.test/report.pdf" and document["chat_id"] == 4242

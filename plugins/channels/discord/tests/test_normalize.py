"""MESSAGE_CREATE payloads as Discord documents them, to InboundMessage."""

from typing import Any

from moltbot_discord.normalize import normalize

BOT_ID = "1100000000000000001"
ADA = {"id": "4242", "username": "ada", "global_name": "Ada L.", "discriminator": "0", "avatar": None}


def message(**extra: Any) -> dict[str, Any]:
    return {
        "id": "1400000000000000123",
        "channel_id": "1300000000000000010",
        "guild_id": "1300000000000000001",
        "author": ADA,
        "content": "hi",
        "timestamp": "2026-11-26T04:15:00.123000+00:00",
        "mentions": [],
        "attachments": [],
        "type": 0,
        **extra,
    }


def test_mentions_read_as_names_and_the_bot_is_detected() -> None:
    bot = {"id": BOT_ID, "username": "molt", "bot": True}
    got = normalize(
        message(content=f"<@!{BOT_ID}> ask <@4242> and <@999>", mentions=[bot, ADA]),
        channel="discord",
        account="work",
        bot_id=BOT_ID,
    )
    assert got is not None and got.text == "@molt ask @ada and <@999>"
    assert got.mentions_bot and got.mentions == ("@molt", "@ada") and got.account == "work"
    assert got.chat_type == "group" and got.chat_id == "1300000000000000010" and got.sender == "4242"
    assert got.sender_name == "Ada L." and got.timestamp.utcoffset() is not None


def test_a_reply_to_a_deleted_message_keeps_its_reference() -> None:
    reference = {"type": 0, "message_id": "1400000000000000001", "channel_id": "1300000000000000010"}
    got = normalize(
        message(type=19, referenced_message=None, message_reference=reference),
        channel="discord",
        account="default",
        bot_id=BOT_ID,
    )
    assert got is not None and got.reply_to == "1400000000000000001" and not got.mentions_bot


def test_dms_attachments_and_what_is_skipped() -> None:
    dm = message(
        guild_id=None,
        content="",
        attachments=[
            {
                "id": "1",
                "filename": "a.ogg",
                "size": 10,
                "url": "https://cdn.discordapp.com/attachments/1/2/a.ogg?ex=1&is=2&hm=3",
                "content_type": "audio/ogg",
            },
            {
                "id": "2",
                "filename": "notes",
                "size": 10,
                "url": "https://cdn.discordapp.com/attachments/1/3/notes",
            },
        ],
    )
    dm.pop("guild_id")
    got = normalize(dm, channel="discord", account="default", bot_id=BOT_ID)
    assert got is not None and got.chat_type == "dm"
    assert [(m.kind, m.ref) for m in got.media] == [
        ("audio", "https://cdn.discordapp.com/attachments/1/2/a.ogg"),
        ("document", "https://cdn.discordapp.com/attachments/1/3/notes"),
    ]
    skipped = [
        message(type=7),  # a member joined
        message(webhook_id="77"),
        message(author={**ADA, "bot": True}),
        message(author={**ADA, "id": BOT_ID}),
        message(content=""),  # no text (MESSAGE_CONTENT missing) and no files
    ]
    assert [normalize(m, channel="discord", account="default", bot_id=BOT_ID) for m in skipped] == [None] * 5

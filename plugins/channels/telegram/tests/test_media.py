"""Inbound attachments: getFile, the download from /file/bot<token>/<path>, storage inside the
agent workspace, and what happens when a file cannot be fetched. The token is in every download
URL, so no ref, text or log line may contain it."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from loguru import logger
from moltbot_telegram.api import BotApi, TelegramError
from moltbot_telegram.channel import TelegramChannel
from moltbot_telegram.config import TelegramConfig

import moltbot
from moltbot.channels.media import MediaTooLarge
from moltbot.config import Settings
from moltbot.testing import build_context

from .fake_telegram import TOKEN, FakeTelegram
from .harness import telegram_config

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeTelegram:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    return fake


async def inbound(
    fake: FakeTelegram, workspace: Path, tmp_path: Path, nursery: trio.Nursery, **extra: Any
) -> AsyncIterator[moltbot.InboundMessage]:
    settings = Settings.model_validate({"agent": {"workspace": str(workspace)}})
    config = TelegramConfig.model_validate(telegram_config(fake, **extra))
    channel = TelegramChannel(config, build_context(tmp_path, "telegram", settings))
    send, recv = trio.open_memory_channel[moltbot.InboundMessage](10)
    await nursery.start(channel.run, send)
    return recv


async def test_files_are_downloaded_into_the_workspace(
    fake: FakeTelegram, tmp_path: Path, nursery: trio.Nursery, logs: list[str]
) -> None:
    workspace = tmp_path / "ws"
    recv = await inbound(fake, workspace, tmp_path, nursery)
    sent = {
        "photo": (fake.user_sends("photo", JPEG, caption="look at this"), JPEG),
        "document": (
            fake.user_sends("document", b"%PDF-1.7 ...", file_name="../../report.pdf"),
            b"%PDF-1.7 ...",
        ),
        "voice": (fake.user_sends("voice", b"OggS voice"), b"OggS voice"),
        "audio": (fake.user_sends("audio", b"ID3 song", file_name="song.mp3"), b"ID3 song"),
        "video": (fake.user_sends("video", b"\x00\x00\x00\x18ftypmp42"), b"\x00\x00\x00\x18ftypmp42"),
        "sticker": (fake.user_sends("sticker", b"RIFF webp"), b"RIFF webp"),
    }
    with trio.fail_after(5):
        messages = [await recv.receive() for _ in sent]
    kinds = [m.media[0].kind for m in messages]
    assert kinds == ["image", "document", "audio", "audio", "video", "sticker"]
    for message, (_, data) in zip(messages, sent.values(), strict=True):
        (media,) = message.media
        assert media.ref.startswith("media/inbound/telegram/") and TOKEN not in media.ref
        assert (workspace / media.ref).read_bytes() == data
    photo, document = messages[0], messages[1]
    assert photo.text == "look at this" and photo.media[0].caption == "look at this"
    assert photo.media[0].mime_type == "image/jpeg"
    assert document.media[0].ref.endswith("-report.pdf")  # no path from the sender's file name
    # only the largest photo size was fetched, through getFile's path with the token
    assert len(fake.downloads) == 6 and all(f"/file/bot{TOKEN}/" in d for d in fake.downloads)
    assert (
        next(c.params["file_id"] for c in fake.calls if c.method == "getFile")
        == (sent["photo"][0]["message"]["photo"][-1]["file_id"])
    )
    assert logs and not any(TOKEN in line for line in logs)


async def test_files_that_cannot_be_fetched_leave_a_note(
    fake: FakeTelegram, tmp_path: Path, nursery: trio.Nursery, logs: list[str]
) -> None:
    recv = await inbound(fake, tmp_path / "ws", tmp_path, nursery)
    big = fake.user_sends("video", b"", caption="my holiday", size=25 * 1024 * 1024)
    fake.fail_next("getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable")
    lost = fake.user_sends("document", b"data", file_name="notes.txt")
    fake.user_says("still there?")
    with trio.fail_after(5):
        too_big, failed, text = [await recv.receive() for _ in range(3)]
    assert too_big.media[0].ref == big["message"]["video"]["file_id"]
    assert too_big.text.startswith(
        "my holiday\n[the video attachment was not downloaded: the file is too big"
    )
    assert "25.0 MB" in too_big.text and too_big.media[0].caption == too_big.text
    assert failed.media[0].ref == lost["message"]["document"]["file_id"]
    assert failed.text == (
        "[the document attachment was not downloaded:"
        " Bad Request: wrong file_id or the file is temporarily unavailable]"
    )
    assert text.text == "still there?"
    assert [c.params["file_id"] for c in fake.calls if c.method == "getFile"] == [failed.media[0].ref]
    assert sum("was not downloaded" in line for line in logs) == 2
    assert not any(TOKEN in line for line in logs)


async def test_download_media_off_keeps_file_ids(
    fake: FakeTelegram, tmp_path: Path, nursery: trio.Nursery
) -> None:
    recv = await inbound(fake, tmp_path / "ws", tmp_path, nursery, downloadMedia=False)
    update = fake.user_sends("photo", JPEG, caption="cat")
    with trio.fail_after(5):
        message = await recv.receive()
    assert message.media[0].ref == update["message"]["photo"][-1]["file_id"] and message.text == "cat"
    assert not any(c.method == "getFile" for c in fake.calls) and not (tmp_path / "ws").exists()


async def test_the_file_endpoint_checks_token_path_and_size(fake: FakeTelegram) -> None:
    item = fake.add_file("documents", b"x" * 100)
    too_big = fake.add_file("videos", b"", size=21 * 1024 * 1024)
    never_issued = fake.add_file("documents", b"secret")
    async with httpx.AsyncClient() as http:
        api = BotApi(http, fake.base_url, TOKEN, timeout=5)
        path = (await api.call("getFile", {"file_id": item["file_id"]}))["file_path"]
        assert await api.download(path, limit=1000) == b"x" * 100
        with pytest.raises(MediaTooLarge):
            await api.download(path, limit=50)
        with pytest.raises(TelegramError, match="answered 401"):
            await BotApi(http, fake.base_url, "1:wrong-token-xyz", timeout=5).download(path, limit=1000)
        with pytest.raises(TelegramError, match="answered 404"):
            await api.download(fake.files[never_issued["file_id"]].path, limit=1000)
        with pytest.raises(TelegramError, match="file is too big"):
            await api.call("getFile", {"file_id": too_big["file_id"]})
        with pytest.raises(TelegramError, match="invalid file_id"):
            await api.call("getFile", {"file_id": "nope"})
    assert api.redact(f"GET /file/bot{TOKEN}/x") == "GET /file/bot<bot token>/x"

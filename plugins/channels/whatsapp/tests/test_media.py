"""Inbound media: media id -> Graph API lookup -> bearer-authenticated download -> a file in the
agent workspace; every failure keeps the message (ref = media id, plus a note) and the channel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from moltbot_whatsapp.graph import Graph
from moltbot_whatsapp.media import Stored, sha256_matches, store
from moltbot_whatsapp.normalize import Attachment
from moltbot_whatsapp.routes import deliver

import moltbot
from moltbot.channels.journal import InboundJournal
from moltbot.channels.media import MAX_INBOUND_BYTES
from moltbot.config import Settings

from .fake_whatsapp import ACCESS_TOKEN, FakeWhatsApp, sign
from .harness import build_channel, next_message, running

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeWhatsApp:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    return fake


def post(channel: Any, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    assert deliver(body, {"x-hub-signature-256": sign(body)}, {"default": channel}).status_code == 200


async def test_an_image_is_stored_in_the_workspace(fake: FakeWhatsApp, tmp_path: Path) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        post(channel, fake.media_message("image", media_id, caption="my cat"))
        message = await next_message(inbox)
    (item,) = message.media
    assert item.ref.startswith("media/inbound/whatsapp/") and item.ref.endswith(f"-{media_id}.jpg")
    assert (tmp_path / "ws" / item.ref).read_bytes() == JPEG
    assert (item.kind, item.mime_type, item.caption, message.text) == (
        "image",
        "image/jpeg",
        "my cat",
        "my cat",
    )
    assert fake.downloads == [media_id]


async def test_documents_keep_their_file_name_and_other_kinds_get_an_extension(
    fake: FakeWhatsApp, tmp_path: Path
) -> None:
    pdf = fake.add_media(b"%PDF-1.7 report", "application/pdf")
    voice = fake.add_media(b"OggS voice", "audio/ogg; codecs=opus")
    sticker = fake.add_media(b"RIFF....WEBP", "image/webp")
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        post(channel, fake.media_message("document", pdf, filename="Q3 report.pdf"))
        post(channel, fake.media_message("audio", voice, voice=True))
        post(channel, fake.media_message("sticker", sticker, animated=False))
        refs = [(await next_message(inbox)).media[0].ref for _ in range(3)]
    assert refs[0].endswith("-Q3_report.pdf") and refs[1].endswith(f"-{voice}.ogg")
    assert refs[2].endswith(f"-{sticker}.webp")
    assert (tmp_path / "ws" / refs[0]).read_bytes() == b"%PDF-1.7 report"


async def test_an_expired_url_is_resolved_again(fake: FakeWhatsApp, tmp_path: Path) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        fake.expire_next_urls(1)
        post(channel, fake.media_message("image", media_id))
        first = await next_message(inbox)
        fake.expire_next_urls(2)
        post(channel, fake.media_message("image", media_id))
        second = await next_message(inbox)
    lookups = [path for path, _ in fake.calls if path.endswith(f"/{media_id}")]
    assert len(lookups) == 4 and fake.downloads == [media_id]
    assert first.media[0].ref.startswith("media/inbound/whatsapp/")
    assert second.media[0].ref == media_id
    reason = "the media URL answered HTTP 404 twice (expired or deleted)"
    assert second.text == f"(image {media_id} was not downloaded: {reason})"


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("unknown", "Meta could not resolve the media id (code 100)"),
        ("checksum", "its sha256 did not match what Meta announced"),
        ("announced-too-large", f"it is over the 20 MB limit ({MAX_INBOUND_BYTES + 1} bytes)"),
        ("lying-file-size", "it is over the 20 MB limit"),
        ("token", "Meta rejected the access token (code 190)"),
    ],
)
async def test_a_failed_download_keeps_the_message_with_a_note(
    fake: FakeWhatsApp, tmp_path: Path, log_lines: list[str], script: str, reason: str
) -> None:
    media_id = "999000111"
    if script == "checksum":
        media_id = fake.add_media(JPEG, "image/jpeg", sha256="0" * 64)
    elif script == "announced-too-large":
        media_id = fake.add_media(b"x", "video/mp4", file_size=MAX_INBOUND_BYTES + 1)
    elif script == "lying-file-size":  # the download's Content-Length tells the truth
        media_id = fake.add_media(b"x" * (MAX_INBOUND_BYTES + 1), "video/mp4", file_size=1000)
    elif script == "token":
        media_id = fake.add_media(JPEG, "image/jpeg")
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        if script == "token":  # revoked after the channel started
            fake.fail_next(401, 190, "Error validating access token: Session has expired")
        post(channel, fake.media_message("image", media_id, caption="look"))
        message = await next_message(inbox)
        post(channel, fake.text("still there?"))  # the channel survived the failure
        assert (await next_message(inbox)).text == "still there?"
    assert message.media == (moltbot.Media(kind="image", ref=media_id, mime_type=message.media[0].mime_type),)
    assert message.text == f"look\n(image {media_id} was not downloaded: {reason})"
    assert not (tmp_path / "ws" / "media").exists()
    assert any(reason in line for line in log_lines)
    assert not any(ACCESS_TOKEN in line for line in log_lines)


async def test_a_stalled_download_gives_up_after_the_media_timeout(
    fake: FakeWhatsApp, tmp_path: Path
) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    attachment = Attachment("image", media_id, "image/jpeg", None, None, None)
    fake.hold_downloads = trio.Event()
    settings = Settings.model_validate({"agent": {"workspace": str(tmp_path / "ws")}})
    async with httpx.AsyncClient() as http:
        graph = Graph(http, fake.base_url, "v21.0", ACCESS_TOKEN, timeout=5, retry_base=0.05)
        stored = await store(http, graph, attachment, settings=settings, channel="whatsapp", timeout=0.05)
    fake.hold_downloads.set()
    assert stored == Stored(None, f"(image {media_id} was not downloaded: it took longer than 0.05 s)")


async def test_download_media_off_keeps_the_media_id(fake: FakeWhatsApp, tmp_path: Path) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    channel = build_channel(fake, tmp_path / "ws", downloadMedia=False)
    async with running(channel) as inbox:
        post(channel, fake.media_message("image", media_id))
        message = await next_message(inbox)
    assert message.media[0].ref == media_id and fake.downloads == []


async def test_the_fake_guards_media_like_meta(fake: FakeWhatsApp) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        denied = await http.get(f"/v21.0/{media_id}")
        assert denied.status_code == 401 and denied.json()["error"]["code"] == 190
        unknown = await http.get("/v21.0/424242", headers=auth)
        assert unknown.status_code == 400 and unknown.json()["error"]["error_subcode"] == 33
        info = (await http.get(f"/v21.0/{media_id}", headers=auth)).json()
        assert info["file_size"] == str(len(JPEG)) and sha256_matches(info["sha256"], JPEG)
        assert (await http.get(info["url"])).status_code == 401
        assert (await http.get(info["url"], headers=auth)).content == JPEG


def test_sha256_accepts_hex_and_base64() -> None:
    import base64
    import hashlib

    digest = hashlib.sha256(b"data").digest()
    assert sha256_matches(digest.hex(), b"data") and sha256_matches(
        base64.b64encode(digest).decode(), b"data"
    )
    assert sha256_matches(digest.hex(), b"other") is False
    assert sha256_matches("not a digest", b"data") is None


async def test_a_message_accepted_before_a_restart_is_forwarded_by_the_next_run(
    fake: FakeWhatsApp, tmp_path: Path
) -> None:
    media_id = fake.add_media(JPEG, "image/jpeg")
    first = build_channel(fake, tmp_path / "ws")
    async with running(first):  # stopped right after the 200, before anything got forwarded
        post(first, fake.media_message("image", media_id, caption="before the crash"))
    assert fake.downloads == []
    second = build_channel(fake, tmp_path / "ws")  # same account, same state directory
    async with running(second) as inbox:
        message = await next_message(inbox)
        post(second, fake.text("after"))
        assert (await next_message(inbox)).text == "after"
    assert message.text == "before the crash" and message.account == "default"
    assert (tmp_path / "ws" / message.media[0].ref).read_bytes() == JPEG
    assert InboundJournal(tmp_path / "whatsapp" / "accepted.log").pending() == []

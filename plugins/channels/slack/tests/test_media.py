"""Inbound files: downloaded with the bot token into the workspace; failures leave a note and
the file id; the token reaches neither the agent nor the logs."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from loguru import logger

from moltbot.channels.media import MAX_INBOUND_BYTES

from .fake_slack import BOT_TOKEN, FakeSlack
from .harness import build_channel, next_message, running

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lines.append, level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


async def test_shared_files_land_in_the_workspace(
    tmp_path: Path, nursery: trio.Nursery, log_lines: list[str]
) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    workspace = tmp_path / "ws"
    channel = build_channel(fake, workspace)
    image = fake.add_file("cat.png", PNG, "image/png")
    page = fake.add_file("notes.html", b"<html><body>my notes</body></html>", "text/html")
    huge = fake.add_file("movie.mp4", b"", "video/mp4", size=MAX_INBOUND_BYTES + 1)
    gone = fake.add_file("gone.pdf", b"%PDF", "application/pdf")
    gone["url_private_download"] = gone["url_private_download"].replace(gone["id"], "F0MISSING")
    async with running(channel) as inbox:
        fake.user_says("look at these", files=[image, page, huge, gone])
        message = await next_message(inbox)
    stored, html, big, missing = message.media
    assert (stored.kind, stored.mime_type) == ("image", "image/png")
    assert stored.ref.startswith("media/inbound/slack/") and (workspace / stored.ref).read_bytes() == PNG
    assert (workspace / html.ref).read_bytes().startswith(b"<html>")
    assert big.ref == huge["id"] and big.kind == "video" and missing.ref == gone["id"]
    assert message.text.startswith("look at these\n")
    assert (
        f"[the file {huge['id']} was not downloaded: the file is bigger than 20.0 MB (20.0 MB)]"
        in message.text
    )
    assert f"[the file {gone['id']} was not downloaded: HTTP 404]" in message.text
    assert {auth for _, auth in fake.downloads} == {f"Bearer {BOT_TOKEN}"}
    assert all(BOT_TOKEN not in line for line in log_lines) and BOT_TOKEN not in str(message)


async def test_a_sign_in_page_is_not_taken_for_the_file(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    image = fake.add_file("cat.png", PNG, "image/png")
    fake.unreadable.add(image["id"])
    channel = build_channel(fake, tmp_path / "ws")
    async with running(channel) as inbox:
        fake.user_says("", files=[image])
        message = await next_message(inbox)
    assert message.media[0].ref == image["id"] and len(fake.downloads) == 1
    assert message.text.startswith(
        f"[the file {image['id']} was not downloaded: Slack answered with a sign-in"
    )
    assert not list((tmp_path / "ws").rglob("*.png"))


async def test_downloads_can_be_turned_off(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    image = fake.add_file("cat.png", PNG, "image/png")
    channel = build_channel(fake, tmp_path / "ws", downloadMedia=False)
    async with running(channel) as inbox:
        fake.user_says("no download", files=[image])
        message = await next_message(inbox)
    assert message.media[0].ref == image["id"] and fake.downloads == []

"""Inbound attachments land inside the agent workspace under names a sender cannot steer."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from moltbot.channels.media import MAX_INBOUND_BYTES, MediaTooLarge, safe_name, save_inbound
from moltbot.config import Settings


def settings_for(workspace: Path) -> Settings:
    return Settings.model_validate({"agent": {"workspace": str(workspace)}})


def test_saved_file_is_workspace_relative_private_and_unique(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "ws")
    first = save_inbound(settings, "telegram", "photo.jpg", b"one")
    second = save_inbound(settings, "telegram", "photo.jpg", b"two")
    assert first != second
    assert first.startswith("media/inbound/telegram/") and first.endswith("-photo.jpg")
    path = tmp_path / "ws" / first
    assert path.read_bytes() == b"one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        (".bashrc", "bashrc"),
        ("a b;rm -rf.txt", "a_b_rm_-rf.txt"),
        ("", "file"),
    ],
)
def test_names_cannot_escape_or_hide(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_oversized_attachment_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "ws")
    with pytest.raises(MediaTooLarge):
        save_inbound(settings, "whatsapp", "big.bin", b"x" * (MAX_INBOUND_BYTES + 1))
    assert not (tmp_path / "ws").exists()


async def test_downloads_are_refused_past_the_limit_with_or_without_a_length() -> None:
    import httpx

    from moltbot.channels.media import read_capped

    class Chunks(httpx.AsyncByteStream):
        """A body of ten 100-byte chunks and no Content-Length."""

        def __init__(self) -> None:
            self.left = 10

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return b"x" * 100

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/announced":
            return httpx.Response(200, headers={"content-length": "1000"}, content=b"x" * 1000)
        return httpx.Response(200, stream=Chunks())

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://cdn") as http:
        for path in ("/announced", "/streamed"):
            async with http.stream("GET", path) as response:
                with pytest.raises(MediaTooLarge):
                    await read_capped(response, limit=250)
        async with http.stream("GET", "/streamed") as response:
            assert await read_capped(response, limit=1000) == b"x" * 1000

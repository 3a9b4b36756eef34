"""The inbound journal round-trips messages and sets unreadable entries aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moltbot.channels.journal import InboundJournal
from moltbot.interfaces.channel import InboundMessage, Media


def message(message_id: str, minutes: int = 0) -> InboundMessage:
    return InboundMessage(
        channel="telegram",
        account="work",
        sender="42",
        chat_type="group",
        chat_id="-100",
        text="look",
        message_id=message_id,
        timestamp=datetime(2026, 11, 26, tzinfo=UTC) + timedelta(minutes=minutes),
        media=(Media(kind="image", ref="media/inbound/telegram/ab-photo.jpg", mime_type="image/jpeg"),),
        mentions=("@bot",),
        mentions_bot=True,
        session_key=None,
    )


def test_round_trip_oldest_first_and_done_forgets(tmp_path: Path) -> None:
    journal = InboundJournal(tmp_path / "pending")
    assert journal.pending() == []
    journal.add("in:b", message("b", minutes=5))
    journal.add("in:a", message("a"))
    assert journal.pending() == [("in:a", message("a")), ("in:b", message("b", minutes=5))]
    journal.done("in:a")
    journal.done("in:a")  # twice is fine
    assert [key for key, _ in journal.pending()] == ["in:b"]


def test_unreadable_entry_is_moved_aside(tmp_path: Path) -> None:
    journal = InboundJournal(tmp_path / "pending")
    journal.add("in:a", message("a"))
    (tmp_path / "pending" / "torn.json").write_text('{"key": "in:x", "mess')
    assert [key for key, _ in journal.pending()] == ["in:a"]
    assert (tmp_path / "pending" / "torn.bad").exists()

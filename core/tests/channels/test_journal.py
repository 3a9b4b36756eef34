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
    path = tmp_path / "journal.log"
    journal = InboundJournal(path)
    assert journal.pending() == []
    journal.add("in:b", message("b", minutes=5))
    journal.add("in:a", message("a"))
    assert journal.pending() == [("in:a", message("a")), ("in:b", message("b", minutes=5))]
    journal.done("in:a")
    journal.done("in:a")  # twice is fine
    assert [key for key, _ in InboundJournal(path).pending()] == ["in:b"]  # as a restart reads it


def test_torn_and_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    InboundJournal(path).add("in:a", message("a"))
    with path.open("a") as log:
        log.write("not json\n")
        log.write('{"add": "in:x", "mess')  # a crash in the middle of an append
    assert [key for key, _ in InboundJournal(path).pending()] == ["in:a"]


def test_the_file_is_compacted_to_the_open_entries(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("moltbot.channels.journal.COMPACT_AFTER", 10)
    path = tmp_path / "journal.log"
    journal = InboundJournal(path)
    journal.add("in:kept", message("kept"))
    for n in range(20):
        journal.add(f"in:{n}", message(str(n)))
        journal.done(f"in:{n}")
    assert len(path.read_text().splitlines()) <= 10
    assert [key for key, _ in InboundJournal(path).pending()] == ["in:kept"]

"""The dedupe log survives restarts, stays bounded and ignores a torn last line."""

from pathlib import Path

from moltbot.channels.dedupe import DedupeStore


def test_remembers_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "seen.log"
    store = DedupeStore(path)
    assert store.remember("telegram:1")
    assert not store.remember("telegram:1")
    again = DedupeStore(path)
    assert "telegram:1" in again
    assert not again.remember("telegram:1")


def test_bounded_and_compacted(tmp_path: Path) -> None:
    path = tmp_path / "seen.log"
    store = DedupeStore(path, limit=10)
    for i in range(35):
        store.remember(f"k{i}")
    assert len(store) == 10
    assert len(path.read_text().splitlines()) <= 20
    reloaded = DedupeStore(path, limit=10)
    assert "k34" in reloaded and "k0" not in reloaded


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "seen.log"
    path.write_bytes(b"a:1\na:2\na:")
    store = DedupeStore(path)
    assert "a:1" in store and "a:2" in store and "a:" not in store
    assert path.read_bytes() == b"a:1\na:2\n"

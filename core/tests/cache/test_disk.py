"""The built-in SQLite backend: conformance, persistence, sharing, corruption."""

import sqlite3

import pytest
import trio

from moltbot.cache.disk import PURGE_EVERY, DiskBackend, DiskCacheConfig
from moltbot.testing import build_context
from moltbot.testing.conformance import CacheBackendConformance, ExpiryHarness


class ManualClock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now

    async def advance(self, seconds):
        self.now += seconds


def open_disk(tmp_path, clock=None, **config):
    kwargs = {"clock": clock} if clock else {}
    return DiskBackend(DiskCacheConfig(**config), build_context(tmp_path, "cache"), **kwargs)


class TestDiskConformance(CacheBackendConformance):
    @pytest.fixture
    def clock(self):
        return ManualClock()

    @pytest.fixture
    def expiry(self, clock):
        return ExpiryHarness(ttl=30, advance=clock.advance)

    @pytest.fixture
    async def backend(self, tmp_path, clock):
        backend = open_disk(tmp_path, clock)
        yield backend
        await backend.aclose()


async def test_file_lives_under_the_state_dir_and_survives_reopen(tmp_path):
    first = open_disk(tmp_path)
    await first.set("ns:k", b"kept", None)
    await first.aclose()
    assert (tmp_path / "cache" / "cache.sqlite3").exists()
    second = open_disk(tmp_path)
    assert await second.get("ns:k") == b"kept"
    await second.aclose()


async def test_two_handles_on_one_file_see_each_other(tmp_path):
    a, b = open_disk(tmp_path), open_disk(tmp_path)

    async def write(backend, name):
        for i in range(50):
            await backend.set(f"{name}:{i}", b"v", None)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(write, a, "a")
        nursery.start_soon(write, b, "b")
    assert await a.get("b:49") == b"v" and await b.get("a:49") == b"v"
    per_namespace = {"entries": 50, "bytes": sum(len(f"a:{i}") + 1 for i in range(50))}
    assert (await a.stats())["namespaces"] == {"a": per_namespace, "b": per_namespace}
    db = sqlite3.connect(tmp_path / "cache" / "cache.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    await a.aclose()
    await b.aclose()


async def test_expired_rows_are_purged_during_writes(tmp_path):
    clock = ManualClock()
    backend = open_disk(tmp_path, clock)
    await backend.set("ns:old", b"x", 1)
    await clock.advance(PURGE_EVERY + 1)
    await backend.set("ns:new", b"y", None)
    db = sqlite3.connect(tmp_path / "cache" / "cache.sqlite3")
    assert [r[0] for r in db.execute("SELECT key FROM entries")] == ["ns:new"]
    db.close()
    stats = await backend.stats()
    assert stats["entries"] == 1 and stats["fileBytes"] > 0
    await backend.aclose()


async def test_garbage_file_is_quarantined_and_rebuilt(tmp_path):
    path = tmp_path / "cache" / "cache.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database at all" * 200)
    backend = open_disk(tmp_path)
    assert await backend.get("ns:k") is None
    await backend.set("ns:k", b"fresh", None)
    assert await backend.get("ns:k") == b"fresh"
    [moved] = backend.quarantined
    assert moved.name.startswith("cache.sqlite3.corrupt-")
    assert moved.read_bytes().startswith(b"this is not a database")
    await backend.aclose()


async def test_damaged_pages_are_found_by_the_check_at_open_and_quarantined(tmp_path):
    backend = open_disk(tmp_path)
    for i in range(200):
        await backend.set(f"ns:{i}", b"v" * 500, None)
    await backend.aclose()
    path = tmp_path / "cache" / "cache.sqlite3"
    data = bytearray(path.read_bytes())
    data[4096 : 4096 * 6] = b"\xff" * (4096 * 5)  # wreck several b-tree pages, keep the header
    path.write_bytes(bytes(data))
    reopened = open_disk(tmp_path)
    await reopened.set("ns:after", b"ok", None)
    assert await reopened.get("ns:after") == b"ok"
    assert len(reopened.quarantined) == 1
    await reopened.aclose()


async def test_corruption_found_while_running_is_quarantined_and_other_handles_follow(tmp_path):
    a, b = open_disk(tmp_path), open_disk(tmp_path)
    rows = [(f"ns:{i:05d}", bytes([i % 256]) * 1000, None) for i in range(4000)]

    def fill(db):
        db.executemany("INSERT INTO entries VALUES (?, ?, ?)", rows)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    await a._run(fill)
    assert await b.get("ns:00001") is not None
    path = tmp_path / "cache" / "cache.sqlite3"
    with path.open("r+b") as f:  # keep page 1 (header, schema root); wreck every page after it
        f.seek(4096)
        f.write(b"\xff" * (path.stat().st_size - 4096))
    stats = await a.stats()  # a full scan reads pages a's page cache no longer holds
    assert stats["entries"] == 0 and len(a.quarantined) == 1
    await b.set("ns:from-b", b"written after the quarantine", None)
    assert await a.get("ns:from-b") == b"written after the quarantine"
    assert b.quarantined == [], "b saw the file replaced and reopened; it renamed nothing"
    moved = [p for p in path.parent.glob("cache.sqlite3.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert moved == a.quarantined, "exactly one file was moved aside"
    await a.aclose()
    await b.aclose()

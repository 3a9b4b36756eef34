"""The store: durable appends, the self-repairing index, the bounded cache, several writers."""

from __future__ import annotations

import json

import pytest
import trio

from moltbot.sessions import entries as E
from moltbot.sessions.index import INDEX_FILE

from .helpers import open_store

KEY = "agent:main:telegram:dm:42"


async def populate(directory, keys=(KEY,), turns=3):
    store = await open_store(directory)
    for key in keys:
        session = await store.session(key, origin={"channel": "telegram", "chatType": "dm"})
        for n in range(turns):
            await session.append(E.message("user", f"q{n}"))
            await session.append(
                E.message("assistant", f"a{n}", model="openai/gpt-x"),
                E.usage(model="openai/gpt-x", input_tokens=100, output_tokens=10, cost=0.01),
            )
    await store.flush()
    return store


async def test_transcript_layout_and_metadata(tmp_path):
    store = await populate(tmp_path / "s")
    meta = store.meta(KEY)
    lines = [json.loads(x) for x in (tmp_path / "s" / f"{meta.session_id}.jsonl").read_text().splitlines()]
    assert lines[0] | {"createdAt": None} == {
        "type": "session",
        "version": 1,
        "id": meta.session_id,
        "key": KEY,
        "createdAt": None,
        "agentId": "main",
        "origin": {"channel": "telegram", "chatType": "dm"},
    }
    assert [line["parentId"] for line in lines[2:]] == [line["id"] for line in lines[1:-1]]
    assert lines[1]["parentId"] is None
    assert (meta.message_count, meta.input_tokens, meta.output_tokens) == (6, 300, 30)
    assert meta.cost == pytest.approx(0.03)
    assert (meta.model, meta.channel, meta.chat_type) == ("openai/gpt-x", "telegram", "dm")
    assert meta.bytes == (tmp_path / "s" / f"{meta.session_id}.jsonl").stat().st_size


@pytest.mark.parametrize("damage", ["delete", "empty", "garbage", "wrong-shape"])
async def test_index_is_rebuilt_from_transcripts(tmp_path, damage):
    keys = (KEY, "agent:main:telegram:group:-100", "agent:main:main")
    before = {m.key: m.to_json() for m in (await populate(tmp_path / "s", keys)).list()}
    index = tmp_path / "s" / INDEX_FILE
    {
        "delete": index.unlink,
        "empty": lambda: index.write_text(""),
        "garbage": lambda: index.write_text('{"sessions": {"agent:main:ma'),
        "wrong-shape": lambda: index.write_text("[1, 2]"),
    }[damage]()

    store = await open_store(tmp_path / "s")
    assert {m.key: m.to_json() for m in store.list()} == before
    assert json.loads(index.read_text())["sessions"] == before
    assert (index.with_name(INDEX_FILE + ".corrupt").exists()) == (damage in ("garbage", "wrong-shape"))


async def test_appends_after_the_last_index_write_are_picked_up(tmp_path):
    store = await populate(tmp_path / "s")
    session = await store.get(KEY)
    await session.append(E.message("user", "not yet in the index"))  # no flush: a crash here
    reopened = await open_store(tmp_path / "s")
    assert reopened.meta(KEY).message_count == 7


async def test_cache_is_bounded_and_eviction_loses_nothing(tmp_path):
    keys = [f"agent:main:telegram:dm:{n}" for n in range(8)]
    await populate(tmp_path / "s", keys, turns=1)
    store = await open_store(tmp_path / "s", cache_size=3)
    evicted = await store.get(keys[0])
    for key in keys:
        session = await store.get(key)
        assert store.cached <= 3
        await session.append(E.message("user", "again"))
    assert store.cached == 3
    first = await store.get(keys[0])
    assert first is not evicted  # evicted earlier, loaded back from disk
    assert [e["content"] for e in first.entries if e["type"] == "message"] == ["q0", "a0", "again"]


async def test_two_writers_of_one_transcript_keep_a_single_chain(tmp_path):
    """An evicted object still used by a run and a fresh one (or another process) both append:
    each picks up the other's lines under the lock before writing."""
    store = await populate(tmp_path / "s", turns=1)
    old = await store.get(KEY)
    other = await (await open_store(tmp_path / "s")).get(KEY)
    await old.append(E.message("user", "from old"))
    await other.append(E.message("user", "from other"))
    await old.append(E.message("user", "old again"))
    lines = [json.loads(x) for x in old.path.read_text().splitlines()][1:]
    assert [line["parentId"] for line in lines[1:]] == [line["id"] for line in lines[:-1]]
    assert [e["id"] for e in old.entries] == [line["id"] for line in lines]
    assert old.meta.message_count == 5


async def test_torn_tail_left_by_another_writer_is_set_aside_before_appending(tmp_path):
    store = await populate(tmp_path / "s", turns=1)
    session = await store.get(KEY)
    with open(session.path, "ab") as handle:
        handle.write(b'{"type":"message","role":"user","content":"cut sh')
    await session.append(E.message("user", "next"))
    lines = session.path.read_text().splitlines()
    assert json.loads(lines[-1])["content"] == "next"
    assert all(json.loads(line) for line in lines)
    assert session.path.with_name(session.path.name + ".torn").read_text().startswith('{"type":"message"')


async def test_unreadable_middle_line_is_skipped_not_fatal(tmp_path):
    store = await populate(tmp_path / "s", turns=1)
    path = (await store.get(KEY)).path
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "not json\n", *lines[2:]]))
    reopened = await open_store(tmp_path / "s")
    assert reopened.meta(KEY).message_count == 2


async def test_foreign_files_are_ignored(tmp_path):
    await populate(tmp_path / "s", turns=1)
    (tmp_path / "s" / "notes.jsonl").write_text('{"type":"session","id":"../x","key":"agent:main:main"}\n')
    (tmp_path / "s" / "00000000-0000-4000-8000-000000000000.jsonl").write_text(
        '{"type":"session","id":"00000000-0000-4000-8000-000000000000","key":"../../etc"}\n'
    )
    store = await open_store(tmp_path / "s")
    assert [m.key for m in store.list()] == [KEY]


async def test_delete_hides_every_transcript_of_the_key_but_keeps_the_files(tmp_path):
    store = await populate(tmp_path / "s", (KEY, "agent:main:main"), turns=1)
    await store.reset(KEY)
    assert await store.delete(KEY) is True
    assert await store.delete(KEY) is False
    assert [m.key for m in store.list()] == ["agent:main:main"]
    assert len(list((tmp_path / "s").glob("*.jsonl.deleted"))) == 2
    reopened = await open_store(tmp_path / "s")
    assert [m.key for m in reopened.list()] == ["agent:main:main"]
    assert json.loads((tmp_path / "s" / INDEX_FILE).read_text())["sessions"].keys() == {"agent:main:main"}
    fresh = await reopened.session(KEY)  # the key can start over
    assert fresh.context().entries == []


async def test_a_stale_session_cannot_write_after_delete(tmp_path):
    """A turn still holding the session when the key is deleted gets an error on its next
    append; it never recreates a headerless transcript (``sessions.delete`` stops runs first)."""
    store = await populate(tmp_path / "s", turns=1)
    stale = await store.get(KEY)
    assert await store.delete(KEY) is True
    with pytest.raises(FileNotFoundError):
        await stale.append(E.message("assistant", "too late"))
    with pytest.raises(FileNotFoundError):
        await stale.append(E.message("assistant", "too late"), sync=False)
    assert list((tmp_path / "s").glob("*.jsonl")) == []
    assert (await open_store(tmp_path / "s")).list() == []


async def test_a_transcript_removed_behind_the_stores_back_starts_a_new_session(tmp_path):
    await populate(tmp_path / "s", turns=1)
    store = await open_store(tmp_path / "s")  # nothing loaded yet: the next access reads the file
    old_id = store.meta(KEY).session_id
    (tmp_path / "s" / f"{old_id}.jsonl").unlink()
    assert await store.get(KEY) is None
    session = await store.session(KEY)
    assert session.id != old_id and store.meta(KEY).session_id == session.id


async def test_index_writes_of_two_stores_keep_each_others_keys(tmp_path):
    a = await open_store(tmp_path / "s")
    b = await open_store(tmp_path / "s")  # e.g. another process, opened before a's new key
    await a.session(KEY)
    await b.session("agent:main:main")
    rows = json.loads((tmp_path / "s" / INDEX_FILE).read_text())["sessions"]
    assert rows.keys() == {KEY, "agent:main:main"}


async def test_concurrent_first_messages_of_a_key_share_one_session(tmp_path):
    store = await open_store(tmp_path / "s")
    got = []

    async def first_message():
        got.append((await store.session(KEY)).id)

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(first_message)
    assert len(set(got)) == 1
    assert len(list((tmp_path / "s").glob("*.jsonl"))) == 1

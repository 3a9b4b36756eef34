"""Compaction storage: cut points never orphan a tool result; the summary persists; the
summarizer runs without holding any lock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from moltbot.sessions import choose_cut, compact, safe_cut_points
from moltbot.sessions import entries as E

from .helpers import open_store

KEY = "agent:main:telegram:dm:42"


def turn(n: int, tools: int, answer: str = "done") -> list[dict]:
    """A user turn, an assistant calling ``tools`` tools, their results, the final answer."""
    calls = [{"id": f"c{n}-{i}", "name": "read", "arguments": {"path": f"f{i}"}} for i in range(tools)]
    out = [E.message("user", f"question {n} " + "w" * 40)]
    if calls:
        out.append(E.message("assistant", "", tool_calls=calls))
        out += [E.tool_result(c["id"], "read", "r" * 200) for c in calls]
    out.append(E.message("assistant", answer + " " + "w" * 40))
    return [dict(e, id=f"e{n}-{i}") for i, e in enumerate(out)]


def orphaned(entries: list[dict], cut: int) -> bool:
    """True if an entry kept from ``cut`` on is a tool result whose call was cut off."""
    cut_calls = {c["id"] for e in entries[:cut] for c in e.get("toolCalls", ())}
    return any(e["type"] == "toolResult" and e["toolCallId"] in cut_calls for e in entries[cut:])


@settings(deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.integers(0, 600))
def test_cut_never_separates_a_tool_result_from_its_call(tools_per_turn, keep):
    entries = [e for n, tools in enumerate(tools_per_turn) for e in turn(n, tools)]
    cut = choose_cut(entries, keep)
    if cut is not None:
        assert 0 < cut < len(entries)
        assert not orphaned(entries, cut)
        assert sum(E.estimate_tokens(e) for e in entries[cut:]) >= min(
            keep, sum(E.estimate_tokens(e) for e in entries[1:])
        )


def test_cut_prefers_turn_starts_and_steps_back_over_tool_results():
    entries = turn(0, 0) + turn(1, 3)  # 2 + 6 entries
    # keeping only the final answer would cut between call and results: step back to turn 1
    assert choose_cut(entries, 1) == 2
    assert entries[2]["role"] == "user"
    # a single long turn: no turn start to cut at, so the cut falls after the tool results
    assert choose_cut(turn(0, 2), 1) == 4
    assert choose_cut(turn(0, 0)[:1], 1) is None  # nothing before the kept part


def test_a_call_whose_result_never_came_does_not_block_compaction():
    aborted = turn(0, 1)[:2]  # user + assistant tool call, then the run died
    entries = aborted + turn(1, 0) + turn(2, 0)
    assert safe_cut_points(entries) == [0, 1, 2, 3, 4, 5]
    assert choose_cut(entries, 1) == 4


async def test_compaction_persists_a_summary_and_context_uses_it(tmp_path):
    store = await open_store(tmp_path / "s")
    session = await store.session(KEY)
    for n in range(6):
        await session.append(*turn(n, n % 3))
    seen: list[tuple] = []

    async def summarize(previous, older, instructions):
        seen.append((previous, [e["id"] for e in older], instructions))
        # the model call takes a while; the conversation goes on meanwhile (no lock held)
        await session.append(E.message("user", "arrived during compaction"))
        return f"summary of {len(older)} entries"

    stored = await compact(session, summarize, keep_recent_tokens=150, instructions="keep names")
    assert stored is not None and stored["type"] == "compaction"
    previous, older_ids, instructions = seen[0]
    assert previous is None and instructions == "keep names"
    view = session.context()
    assert view.summary == f"summary of {len(older_ids)} entries"
    assert view.entries[0]["id"] == stored["firstKeptEntryId"]
    assert view.entries[0]["role"] == "user"
    assert view.entries[-1]["content"] == "arrived during compaction"
    all_context = [e["id"] for e in session.entries if e["type"] in ("message", "toolResult")]
    assert [e["id"] for e in view.entries] == all_context[len(older_ids) :]
    assert not any(e["type"] == "toolResult" for e in view.entries[:1])

    # a second compaction summarizes the summary plus what followed it
    await compact(session, summarize, keep_recent_tokens=20)
    assert seen[1][0] == view.summary
    assert set(seen[1][1]) <= {e["id"] for e in view.entries}
    again = session.context()

    reloaded = await (await open_store(tmp_path / "s")).get(KEY)
    assert reloaded.context() == again
    assert reloaded.meta.compaction_count == 2


async def test_nothing_to_compact_returns_none_without_calling_the_summarizer(tmp_path):
    store = await open_store(tmp_path / "s")
    session = await store.session(KEY)
    await session.append(*turn(0, 1))

    async def summarize(previous, older, instructions):
        raise AssertionError("not called")

    assert await compact(session, summarize) is None
    assert session.meta.compaction_count == 0

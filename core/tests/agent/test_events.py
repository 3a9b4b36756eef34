"""Delta coalescing of run events: fewer broadcasts, the same text."""

from __future__ import annotations

from typing import Any

import trio

from moltbot.agent.events import DELTA_INTERVAL, RunEvents
from moltbot.agent.trace import RunTrace


def make_events() -> tuple[RunEvents, list[tuple[str, dict[str, Any]]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    events = RunEvents(
        run_id="r1",
        session_key="agent:main:main",
        agent_id="main",
        broadcast=lambda event, payload: sent.append((event, payload)),
        trace=RunTrace("r1", "agent:main:main", "main"),
    )
    return events, sent


def deltas(sent: list[tuple[str, dict[str, Any]]], event: str) -> list[dict[str, Any]]:
    if event == "agent":
        return [p["data"] for e, p in sent if e == "agent" and p["stream"] == "assistant"]
    return [p for e, p in sent if e == "chat" and p["state"] == "delta"]


async def test_burst_of_chunks_is_merged_and_flushed_before_the_end(autojump_clock) -> None:
    events, sent = make_events()
    events.start()
    events.new_message()
    for chunk in ["Hel", "lo ", "the", "re"]:
        events.delta(chunk)
    assert [d["delta"] for d in deltas(sent, "agent")] == ["Hel"]  # first chunk at once
    events.usage(3, 4)
    events.end("ok", "Hello there", "stop")
    agent = deltas(sent, "agent")
    assert [d["delta"] for d in agent] == ["Hel", "lo there"]
    assert agent[-1]["text"] == "Hello there"
    assert [c["deltaText"] for c in deltas(sent, "chat")] == ["Hel"]
    final = sent[-1][1]
    assert final["state"] == "final" and final["message"]["content"][0]["text"] == "Hello there"
    streams = [p["stream"] for e, p in sent if e == "agent"]
    assert streams.index("usage") > max(i for i, s in enumerate(streams) if s == "assistant")


async def test_chunks_further_apart_than_the_interval_each_go_out(autojump_clock) -> None:
    events, sent = make_events()
    events.new_message()
    for chunk in ["a", "b", "c"]:
        events.delta(chunk)
        await trio.sleep(DELTA_INTERVAL)
    assert [d["delta"] for d in deltas(sent, "agent")] == ["a", "b", "c"]
    assert [c["deltaText"] for c in deltas(sent, "chat")] == ["a", "b", "c"]


async def test_tool_start_flushes_chat_text_and_a_new_message_starts_fresh(autojump_clock) -> None:
    events, sent = make_events()
    events.new_message()
    events.delta("Let me ")
    events.delta("look.")
    events.tool_start("c1", "read", {"path": "x"})
    assert "".join(c["deltaText"] for c in deltas(sent, "chat")) == "Let me look."
    events.new_message()
    await trio.sleep(DELTA_INTERVAL)
    events.delta("Done.")
    last = deltas(sent, "agent")[-1]
    assert last["text"] == "Done." and last["itemId"] == "r1:2"

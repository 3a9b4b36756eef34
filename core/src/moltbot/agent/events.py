"""OpenClaw's ``agent`` and ``chat`` gateway events for one run, plus the run's trace.

``agent`` events: ``{runId, sessionKey, sessionId, agentId, stream, data, seq, ts}`` with
``stream`` one of ``lifecycle`` (phase start/end/error), ``assistant`` (text deltas), ``tool``
(phase start/result) and ``usage``. ``chat`` events: ``{runId, sessionKey, agentId, seq, state,
message?, deltaText?, stopReason?, errorMessage?}`` with ``state`` delta/final/error/aborted.
Both go to operators holding ``operator.read``; ``seq`` counts the run's events from 1.

Text deltas are coalesced: the first chunk goes out at once, later chunks at most every
:data:`DELTA_INTERVAL` seconds (OpenClaw throttles ``chat`` deltas at 150 ms), because every
event is fanned out to every operator connection. ``data.delta`` of the ``assistant`` stream
still concatenates to the exact text (pending text is flushed before any other ``agent``
event); a ``chat`` delta's ``deltaText`` is the text since the previous ``chat`` delta, and
text still pending when the run ends is carried only by the final event's ``message``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import trio

from moltbot.agent.trace import RunTrace

Broadcast = Callable[[str, dict[str, Any]], None]

DELTA_INTERVAL = 0.15
"""Seconds between two delta broadcasts of one run (chunks in between are merged)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def chat_message(text: str, ts: int | None = None) -> dict[str, Any]:
    """An assistant message in OpenClaw's content-part shape."""
    return {"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": ts or now_ms()}


class RunEvents:
    """Numbers, timestamps and broadcasts the events of one run, recording them in its trace."""

    def __init__(
        self,
        *,
        run_id: str,
        session_key: str,
        agent_id: str,
        broadcast: Broadcast | None,
        trace: RunTrace,
    ) -> None:
        self.run_id = run_id
        self.session_key = session_key
        self.agent_id = agent_id
        self.session_id: str | None = None
        self.broadcast = broadcast
        self.trace = trace
        self.seq = 0
        self.text = ""
        self._item = 0
        self._agent_pending = ""
        self._chat_pending = ""
        self._last_delta = float("-inf")
        """``trio.current_time()`` of the latest delta broadcast."""

    def _base(self) -> dict[str, Any]:
        base = {"runId": self.run_id, "sessionKey": self.session_key, "agentId": self.agent_id}
        if self.session_id:
            base["sessionId"] = self.session_id
        return base

    def agent(self, stream: str, data: dict[str, Any], *, trace: bool = True) -> None:
        if stream != "assistant":
            self._flush_agent()
        self.seq += 1
        ts = now_ms()
        if trace:
            self.trace.event(stream, data)
        if self.broadcast is not None:
            self.broadcast(
                "agent", {**self._base(), "stream": stream, "data": data, "seq": self.seq, "ts": ts}
            )

    def chat(self, state: str, **fields: Any) -> None:
        if self.broadcast is not None:
            payload = {**self._base(), "seq": self.seq, "state": state, **fields}
            payload.pop("sessionId", None)
            self.broadcast("chat", payload)

    # ------------------------------------------------------------ the run's story

    def start(self) -> None:
        self.agent("lifecycle", {"phase": "start", "startedAt": self.trace.started_ms})

    def model(self, provider: str, model: str, fallback: bool) -> None:
        self.agent(
            "lifecycle", {"phase": "model", "provider": provider, "model": model, "fallback": fallback}
        )

    def new_message(self) -> None:
        """A new assistant message begins (after tool results): deltas get a new item id."""
        self._flush_agent()
        self._flush_chat()
        self._item += 1
        self.text = ""

    def delta(self, chunk: str) -> None:
        """A text chunk from the model: broadcast now, or merged into the next broadcast."""
        self.text += chunk
        self._agent_pending += chunk
        self._chat_pending += chunk
        now = trio.current_time()
        if now - self._last_delta >= DELTA_INTERVAL:
            self._last_delta = now
            self._flush_agent()
            self._flush_chat()

    def _flush_agent(self) -> None:
        if self._agent_pending:
            chunk, self._agent_pending = self._agent_pending, ""
            data = {"text": self.text, "delta": chunk, "itemId": f"{self.run_id}:{self._item}"}
            self.agent("assistant", data, trace=False)

    def _flush_chat(self) -> None:
        if self._chat_pending:
            chunk, self._chat_pending = self._chat_pending, ""
            self.chat("delta", deltaText=chunk, message=chat_message(self.text))

    def tool_start(self, call_id: str, name: str, args: dict[str, Any]) -> None:
        self._flush_chat()
        self.agent("tool", {"phase": "start", "name": name, "toolCallId": call_id, "args": args})

    def tool_end(self, call_id: str, name: str, result: str, is_error: bool, duration_ms: float) -> None:
        data = {
            "phase": "result",
            "name": name,
            "toolCallId": call_id,
            "isError": is_error,
            "result": result[:2000],
            "durationMs": round(duration_ms, 1),
        }
        self.agent("tool", data)

    def usage(self, input_tokens: int, output_tokens: int) -> None:
        self.agent("usage", {"inputTokens": input_tokens, "outputTokens": output_tokens})

    def end(self, status: str, text: str, stop_reason: str, error: str | None = None) -> None:
        ended = now_ms()
        if status == "error":
            self.agent(
                "lifecycle",
                {
                    "phase": "error",
                    "error": error or "failed",
                    "startedAt": self.trace.started_ms,
                    "endedAt": ended,
                },
            )
            self.chat("error", errorMessage=error or "failed", message=chat_message(text, ended))
            return
        aborted = status == "aborted"
        data = {
            "phase": "end",
            "stopReason": stop_reason,
            "aborted": aborted,
            "startedAt": self.trace.started_ms,
            "endedAt": ended,
            "terminalReply": {"disposition": "visible" if text else "silent", "text": text},
        }
        self.agent("lifecycle", data)
        self.chat(
            "aborted" if aborted else "final", stopReason=stop_reason, message=chat_message(text, ended)
        )

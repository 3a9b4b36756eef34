"""Run traces (the seed's ``traceAgentRun``): timed events, model and tool time, tokens.

Every run's trace is appended as one JSON line to
``<state>/agents/<agentId>/traces/<sessionId>.jsonl`` when the run ends, so ``moltbot debug
trace <session>`` can show them without a running gateway. One append per run keeps the cost
flat however long the session is; a torn last line (crash mid-append) is skipped on read.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRACE_DIR = "traces"
MAX_EVENTS = 500
"""Events kept per trace; later ones are counted in ``droppedEvents`` (runaway tool loops)."""


def traces_dir(state_dir: Path, agent_id: str) -> Path:
    return state_dir / "agents" / agent_id / TRACE_DIR


@dataclass
class RunTrace:
    run_id: str
    session_key: str
    agent_id: str
    session_id: str | None = None
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    _t0: float = field(default_factory=time.perf_counter, repr=False)
    events: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0
    model_ms: float = 0.0
    tool_ms: float = 0.0
    model_calls: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000

    def event(self, kind: str, data: dict[str, Any]) -> None:
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return
        self.events.append({"t": round(self.elapsed_ms(), 2), "type": kind, **data})

    def model_call(
        self, *, provider: str, model: str, ms: float, input_tokens: int, output_tokens: int
    ) -> None:
        self.model_ms += ms
        self.model_calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.event(
            "model",
            {
                "provider": provider,
                "model": model,
                "durationMs": round(ms, 2),
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
            },
        )

    def tool_call(self, ms: float) -> None:
        self.tool_ms += ms
        self.tool_calls += 1

    def to_json(self, *, status: str, stop_reason: str, error: str | None) -> dict[str, Any]:
        total = self.elapsed_ms()
        return {
            "runId": self.run_id,
            "sessionKey": self.session_key,
            "sessionId": self.session_id,
            "agentId": self.agent_id,
            "startTime": self.started_ms,
            "endTime": self.started_ms + int(total),
            "status": status,
            "stopReason": stop_reason,
            "error": error,
            "performance": {
                "totalDuration": round(total, 2),
                "modelCallTime": round(self.model_ms, 2),
                "toolExecutionTime": round(self.tool_ms, 2),
                "overhead": round(max(0.0, total - self.model_ms - self.tool_ms), 2),
            },
            "modelCalls": self.model_calls,
            "toolCalls": self.tool_calls,
            "tokens": {"input": self.input_tokens, "output": self.output_tokens},
            "costUsd": round(self.cost_usd, 6),
            "events": self.events,
            "droppedEvents": self.dropped,
        }


def append_trace(directory: Path, session_id: str, record: dict[str, Any]) -> None:
    """Append one finished trace (blocking; run it in a thread)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()
    fd = os.open(directory / f"{session_id}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_traces(directory: Path, session_id: str) -> list[dict[str, Any]]:
    """Every readable trace of one session, oldest first (torn or corrupt lines skipped)."""
    path = directory / f"{session_id}.jsonl"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    for line in raw.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out

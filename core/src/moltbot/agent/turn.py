"""One agent turn: call the model (through failover), run its tool calls, repeat.

The loop ends on a final answer (no tool calls) or after ``max_steps`` model calls. Every
assistant message and tool result is appended to the transcript as it happens, so a crash
loses at most the step in flight. Tool failures of any kind come back as error results the
model reads; only cancellation (abort, timeout) leaves the loop early.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from moltbot.agent.context import to_messages
from moltbot.agent.events import RunEvents
from moltbot.interfaces.provider import (
    ChatMessage,
    Done,
    ModelRequest,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSchema,
    Usage,
)
from moltbot.interfaces.tool import Tool, ToolContext, ToolResult
from moltbot.models.failover import Answered, FailoverPolicy
from moltbot.models.refs import ModelRef
from moltbot.models.usage import UsageRecord, UsageTotals, record
from moltbot.sessions import entries as E
from moltbot.sessions.session import Session
from moltbot.tools.invoke import invoke_tool

PriceOf = Callable[[ModelRef], Any]


@dataclass
class TurnSetup:
    """Everything one turn needs, resolved by the runtime before it starts."""

    session: Session
    policy: FailoverPolicy
    candidates: Sequence[ModelRef]
    system: str
    tools: Mapping[str, Tool]
    schemas: tuple[ToolSchema, ...]
    tool_context: ToolContext
    max_steps: int
    price_of: PriceOf
    max_tokens_of: Callable[[ModelRef], int | None]
    take_steered: Callable[[], list[str]]
    """User messages that arrived for this session during the turn (steer mode)."""
    on_usage: Callable[[UsageRecord], None] = lambda _r: None


@dataclass
class TurnOutcome:
    text: str = ""
    stop_reason: str = "stop"
    notice: str | None = None
    model: str | None = None
    usage: UsageTotals = field(default_factory=UsageTotals)
    steps: int = 0
    tool_names: list[str] = field(default_factory=list)
    partial: str = ""
    """Text streamed by the step in flight when the turn was cancelled."""


async def run_turn(setup: TurnSetup, events: RunEvents, outcome: TurnOutcome) -> None:
    """Fill ``outcome`` as the turn goes (the caller still has it after a cancellation)."""
    session = setup.session
    trace = events.trace
    for _ in range(setup.max_steps):
        outcome.steps += 1
        view = session.context()
        system = setup.system
        if view.summary:
            system += f"\n\n## Earlier conversation (summary)\n{view.summary}"
        request = ModelRequest(
            model="",
            messages=tuple(to_messages(view.entries)),
            system=system,
            tools=setup.schemas,
            max_tokens=setup.max_tokens_of(setup.candidates[0]) if setup.candidates else None,
        )
        events.new_message()
        text, calls, usage, answered = "", [], None, None
        started = time.perf_counter()
        async for event in setup.policy.stream(setup.candidates, request):
            if isinstance(event, Answered):
                answered = event
                events.model(event.ref.provider, event.ref.model, event.fallback)
                if event.fallback and outcome.notice is None:
                    outcome.notice = event.notice()
            elif isinstance(event, TextDelta):
                text += event.text
                outcome.partial = text
                events.delta(event.text)
            elif isinstance(event, ToolCallEvent):
                calls.append(event.call)
            elif isinstance(event, Usage):
                usage = event
            elif isinstance(event, Done):
                pass
        elapsed = (time.perf_counter() - started) * 1000
        outcome.partial = ""
        assert answered is not None
        ref = answered.ref
        outcome.model = str(ref)
        usage = usage or Usage(0, 0)
        item = record(ref, usage, setup.price_of(ref), profile=answered.profile, fallback=answered.fallback)
        outcome.usage.add(item)
        setup.on_usage(item)
        trace.model_call(
            provider=ref.provider,
            model=ref.model,
            ms=elapsed,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
        )
        trace.cost_usd += item.cost_usd or 0.0
        events.usage(usage.input_tokens, usage.output_tokens)
        tool_calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls]
        await session.append(
            E.message("assistant", text, tool_calls=tool_calls, model=str(ref)),
            E.usage(
                model=str(ref),
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost=item.cost_usd,
            ),
        )
        if text:
            outcome.text = text
        if not calls:
            outcome.stop_reason = "stop"
            return
        for call in calls:
            await _run_tool(setup, events, call, outcome)
        for steered in setup.take_steered():
            await session.append(E.message("user", steered))
    outcome.stop_reason = "max_steps"


async def _run_tool(setup: TurnSetup, events: RunEvents, call: ToolCall, outcome: TurnOutcome) -> None:
    events.tool_start(call.id, call.name, call.arguments)
    started = time.perf_counter()
    tool = setup.tools.get(call.name)
    if tool is None:
        result = ToolResult(text=f"{call.name}: no such tool in this session", is_error=True)
    else:
        raw: dict[str, Any] | str = call.raw_arguments if call.raw_arguments is not None else call.arguments
        result = await invoke_tool(tool, setup.tool_context, raw)
    elapsed = (time.perf_counter() - started) * 1000
    events.trace.tool_call(elapsed)
    events.tool_end(call.id, call.name, result.text, result.is_error, elapsed)
    if not result.is_error:
        outcome.tool_names.append(call.name)
    with trio.CancelScope(shield=True):
        await setup.session.append(E.tool_result(call.id, call.name, result.text, is_error=result.is_error))


async def summarize_with(
    policy: FailoverPolicy, candidates: Sequence[ModelRef], system: str, prompt: str
) -> tuple[str, Usage | None, ModelRef | None]:
    """One tool-less model call (compaction summaries); returns text, usage and who answered."""
    request = ModelRequest(model="", messages=(ChatMessage(role="user", content=prompt),), system=system)
    text, usage, ref = "", None, None
    async for event in policy.stream(candidates, request):
        if isinstance(event, Answered):
            ref = event.ref
        elif isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Usage):
            usage = event
    return text.strip(), usage, ref

"""Executing one run: slot, session, user message, compaction, the turn, and the ending
(result, events, trace, metrics, delivery to the origin channel)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from moltbot.agent.context import SUMMARY_SYSTEM, summary_prompt
from moltbot.agent.events import RunEvents
from moltbot.agent.lanes import Lane, Run, base_result
from moltbot.agent.prompt import system_prompt
from moltbot.agent.trace import RunTrace, append_trace, traces_dir
from moltbot.agent.turn import TurnOutcome, TurnSetup, run_turn, summarize_with
from moltbot.errors import BusyError, ConfigError
from moltbot.interfaces.provider import ProviderError, ToolSchema
from moltbot.interfaces.tool import ToolContext
from moltbot.models.refs import ModelRef, candidates
from moltbot.models.registry import model_entry
from moltbot.models.usage import record
from moltbot.sessions import entries as E
from moltbot.sessions.compaction import compact
from moltbot.sessions.keys import parse_key
from moltbot.sessions.session import Session
from moltbot.tools.invoke import tool_schema
from moltbot.tools.toolset import session_tools

if TYPE_CHECKING:
    from moltbot.agent.runtime import AgentRuntime

NO_MODEL_HINT = (
    "I'm not connected to a language model yet. Run `moltbot onboard`, or set OPENAI_API_KEY or "
    "ANTHROPIC_API_KEY and agent.model (e.g. openai/gpt-4o-mini), or point "
    "models.providers.<id>.baseUrl at a local Ollama or llama.cpp server "
    "(e.g. http://127.0.0.1:11434/v1 with api: openai)."
)

_schema_cache: dict[tuple[int, ...], tuple[ToolSchema, ...]] = {}


async def execute(rt: AgentRuntime, lane: Lane, run: Run) -> None:
    agent_id = parse_key(run.session_key).agent_id
    trace = RunTrace(run.id, run.session_key, agent_id)
    events = RunEvents(
        run_id=run.id, session_key=run.session_key, agent_id=agent_id, broadcast=rt.broadcast, trace=trace
    )
    outcome = TurnOutcome()
    status, error = "ok", None
    session: Session | None = None
    settings = rt.app.settings
    run.status = "running"
    started = time.perf_counter()
    with trio.CancelScope(deadline=trio.current_time() + settings.agent.timeout / 1000) as scope:
        run.scope = scope
        if run.abort_requested:
            scope.cancel()
        try:
            async with rt.slot(run.session_key):
                store = await rt.store(run.session_key)
                session = await store.session(run.session_key, origin=_origin(run))
                events.session_id = trace.session_id = session.id
                events.start()
                sender = run.origin.sender if run.origin else None
                prompt = run.prompt_text()
                # written before the model call (a crashed process keeps it) but fsynced by
                # the turn's next append, which saves one fsync per turn (docs/sessions.md)
                if not _ends_unanswered(session.entries, prompt, sender):
                    await session.append(
                        E.message("user", prompt, channel=_channel(run), sender=sender), sync=False
                    )
                await _turn(rt, lane, run, session, events, outcome)
        except ProviderError as exc:
            status, error = "error", f"model error ({exc.kind.replace('_', ' ')}): {exc.message}"
        except BusyError as exc:
            status, error = "error", str(exc)
        except Exception as exc:
            logger.opt(exception=exc).error("agent run {} failed [session={}]", run.id, run.session_key)
            status, error = "error", f"internal error ({type(exc).__name__}); see the gateway log"
    if scope.cancelled_caught:
        if run.abort_requested:
            status, outcome.stop_reason = "aborted", "aborted"
        else:
            status, outcome.stop_reason = "error", "timeout"
            error = f"the run timed out after {settings.agent.timeout / 1000:g} s"
        if session is not None and outcome.partial:
            with trio.CancelScope(shield=True):
                await session.append(E.message("assistant", outcome.partial, aborted=True))
            outcome.text = outcome.partial
    run.steerable = False
    lane.requeue_steered(run)
    text = _reply_text(status, outcome, error, settings.agent.max_steps)
    result = _result(run, status, text, error, outcome, session)
    events.end(status, text, outcome.stop_reason, error)
    with trio.CancelScope(shield=True):
        if session is not None:
            try:
                await session.sync()  # the user message, when the run ended before an answer
            except OSError as exc:
                logger.warning("cannot fsync the transcript of run {}: {}", run.id, exc)
            record_json = trace.to_json(status=status, stop_reason=outcome.stop_reason, error=error)
            directory = traces_dir(rt.app.paths.state_dir, agent_id)
            try:
                await trio.to_thread.run_sync(append_trace, directory, session.id, record_json)
            except OSError as exc:
                logger.warning("cannot write the trace of run {}: {}", run.id, exc)
    rt.app.metrics.observe("agents.response_seconds", time.perf_counter() - started)
    run.finish(result)
    for extra in run.extra:
        extra.finish({**result, "runId": extra.id, "mergedInto": run.id})
    if status != "aborted":
        await deliver(rt, run, text)


async def _turn(
    rt: AgentRuntime, lane: Lane, run: Run, session: Session, events: RunEvents, outcome: TurnOutcome
) -> None:
    settings = rt.app.settings
    key = run.session_key
    rt.providers()
    try:
        refs = candidates(settings, override=rt.overrides(key).value(key, "model"))
    except ConfigError as exc:
        raise ProviderError("bad_request", exc.render()) from None
    if not refs:
        events.new_message()
        events.delta(NO_MODEL_HINT)
        await session.append(E.message("assistant", NO_MODEL_HINT))
        outcome.text, outcome.stop_reason = NO_MODEL_HINT, "no_model"
        return
    agent_id = parse_key(key).agent_id
    allowed = session_tools(rt.tools, settings, agent_id=agent_id, session_key=key)
    approvals = rt.app.services.get("approvals")
    workspace = rt.bootstrap().workspace
    context = ToolContext(
        session_key=key,
        agent_id=agent_id,
        workspace=workspace,
        sandboxed=allowed.policy.sandboxed,
        request_approval=approvals.asker(agent_id=agent_id, session_key=key) if approvals else None,
        cancel_scope=run.scope,
    )
    system = system_prompt(
        workspace=str(workspace),
        files=rt.bootstrap().files(),
        tool_names=list(allowed.tools),
        now=datetime.now().astimezone(),
        session_key=key,
    )

    def take_steered() -> list[str]:
        taken = lane.take_steered(run)
        run.extra.extend(taken)
        return [item.text for item in taken]

    setup = TurnSetup(
        session=session,
        policy=rt.policy,
        candidates=refs,
        system=system,
        tools=allowed.tools,
        schemas=_schemas(allowed.tools),
        tool_context=context,
        max_steps=settings.agent.max_steps,
        price_of=lambda ref: _price(settings, ref),
        max_tokens_of=lambda ref: _max_tokens(settings, ref),
        take_steered=take_steered,
        on_usage=rt.add_usage,
    )
    window = rt.context_window(key)
    if session.context().tokens + len(system) // 4 >= settings.agent.compaction_threshold * window:
        await _auto_compact(rt, key, session, events)
    try:
        await run_turn(setup, events, outcome)
    except ProviderError as exc:
        if exc.kind != "context_overflow" or outcome.steps > 1:
            raise
        if await _auto_compact(rt, key, session, events) is None:
            raise
        await run_turn(setup, events, outcome)


async def _auto_compact(
    rt: AgentRuntime, key: str, session: Session, events: RunEvents
) -> dict[str, Any] | None:
    events.agent("compaction", {"phase": "start"})
    stored = await compact_session(
        rt, key, session, keep_recent_tokens=rt.app.settings.agent.keep_recent_tokens
    )
    events.agent("compaction", {"phase": "end", "compacted": stored is not None})
    return stored


async def compact_session(
    rt: AgentRuntime, key: str, session: Session, *, keep_recent_tokens: int, instructions: str | None = None
) -> dict[str, Any] | None:
    """Summarize the older part of ``session`` with the session's model (sessions' compaction
    storage keeps tool calls with their results); ``None`` when there was nothing to compact."""
    settings = rt.app.settings
    rt.providers()
    refs = candidates(settings, override=rt.overrides(key).value(key, "model"))
    if not refs:
        raise ProviderError("bad_request", "no model is configured, so nothing can summarize")

    async def summarize(previous: str | None, entries: list[dict[str, Any]], focus: str | None) -> str:
        prompt = summary_prompt(previous, entries, focus)
        text, usage, ref = await summarize_with(rt.policy, refs, SUMMARY_SYSTEM, prompt)
        if usage is not None and ref is not None:
            rt.add_usage(record(ref, usage, _price(settings, ref)))
        if not text:
            raise ProviderError("unknown", "the model returned an empty summary")
        return text

    return await compact(session, summarize, keep_recent_tokens=keep_recent_tokens, instructions=instructions)


async def deliver(rt: AgentRuntime, run: Run, text: str) -> None:
    """Send the reply back to the channel it came from (the channels service knows which
    channels' clients already saw it as the run's events)."""
    channels = rt.app.services.get("channels")
    origin = run.origin
    if channels is None or origin is None or not text:
        return
    try:
        await channels.deliver(origin, text)
    except Exception as exc:
        logger.opt(exception=exc).error("delivering run {} to {} failed", run.id, origin.channel)


def _schemas(tools: Any) -> tuple[ToolSchema, ...]:
    marker = tuple(id(t) for t in tools.values())
    cached = _schema_cache.get(marker)
    if cached is None:
        cached = _schema_cache[marker] = tuple(tool_schema(t) for t in tools.values())
    return cached


def _price(settings: Any, ref: ModelRef) -> Any:
    entry = model_entry(settings, ref)
    return entry.cost if entry else None


def _max_tokens(settings: Any, ref: ModelRef) -> int | None:
    entry = model_entry(settings, ref)
    return entry.max_tokens if entry else None


def _ends_unanswered(entries: list[dict[str, Any]], text: str, sender: str | None) -> bool:
    """Whether the transcript already ends with this user message and no answer: a run that
    died with the gateway and is submitted again from the channels journal, or the same text
    sent again after a failed run. The message is not written twice."""
    last = entries[-1] if entries else None
    return (
        last is not None
        and last.get("type") == "message"
        and last.get("role") == "user"
        and last.get("content") == text
        and last.get("sender") == sender
    )


def _origin(run: Run) -> dict[str, str] | None:
    if run.origin is None:
        return None
    return {"channel": run.origin.channel, "chatType": run.origin.chat_type}


def _channel(run: Run) -> str | None:
    return run.origin.channel if run.origin else None


def _reply_text(status: str, outcome: TurnOutcome, error: str | None, max_steps: int) -> str:
    if status == "error":
        return f"⚠️ {error}"
    text = outcome.text
    if outcome.stop_reason == "max_steps":
        text = (
            text + "\n\n" if text else ""
        ) + f"(Stopped after {max_steps} steps; send a message to continue.)"
    if outcome.notice and status == "ok":
        text = f"{outcome.notice}\n\n{text}"
    return text


def _result(
    run: Run, status: str, text: str, error: str | None, outcome: TurnOutcome, session: Session | None
) -> dict[str, Any]:
    result = base_result(run, status=status, text=text, stop_reason=outcome.stop_reason)
    usage = outcome.usage
    result.update(
        sessionId=session.id if session else None,
        error=error,
        model=outcome.model,
        notice=outcome.notice,
        steps=outcome.steps,
        tools=outcome.tool_names,
        usage={
            "input": usage.input_tokens,
            "output": usage.output_tokens,
            "cacheRead": usage.cache_read_tokens,
            "cacheWrite": usage.cache_write_tokens,
            "total": usage.input_tokens + usage.output_tokens,
            "costUsd": round(usage.cost_usd, 6),
            "calls": usage.calls,
        },
    )
    return result

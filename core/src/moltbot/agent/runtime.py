"""The agent runtime service (``app.services["agent"]``): accepts messages, runs turns.

``submit`` queues a message on its session's lane and returns a run id at once; ``wait``
returns the run's result. Each lane runs one turn at a time; turns of different sessions run
concurrently up to ``performance.agents.maxConcurrentRuns`` (through the ``resources`` service
when it runs, else a limiter of its own). The turn itself lives in :mod:`moltbot.agent.execute`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio
from loguru import logger

from moltbot.agent.commands import Command, parse_command, run_command
from moltbot.agent.events import RunEvents
from moltbot.agent.lanes import QUEUE_MODES, Lane, QueueMode, Run, base_result
from moltbot.agent.overrides import SessionOverrides
from moltbot.agent.trace import RunTrace
from moltbot.agent.workspace import Bootstrap, resolve_workspace, seed_workspace
from moltbot.app import App
from moltbot.errors import ConfigError
from moltbot.interfaces.channel import Origin
from moltbot.interfaces.provider import ModelProvider
from moltbot.interfaces.service import Service
from moltbot.interfaces.tool import Tool
from moltbot.models.failover import FailoverPolicy
from moltbot.models.refs import candidates
from moltbot.models.registry import build_providers, model_entry
from moltbot.models.usage import UsageRecord, UsageTotals
from moltbot.sessions.keys import parse_key
from moltbot.sessions.session import Session
from moltbot.sessions.store import SessionStore
from moltbot.tools.toolset import build_tools

KEEP_FINISHED = 1000
"""Finished runs remembered for ``wait`` (and idempotency keys) before the oldest are dropped."""


class AgentRuntime(Service):
    def __init__(self, app: App) -> None:
        self.app = app
        self.runs: OrderedDict[str, Run] = OrderedDict()
        self.lanes: dict[str, Lane] = {}
        self._idempotency: dict[str, str] = {}
        self.listeners: dict[str, Callable[[str, dict[str, Any]], None]] = {}
        """Run id -> a callback receiving that run's events (set right after ``submit``)."""
        self._nursery: trio.Nursery | None = None
        self._providers: dict[str, ModelProvider] = {}
        self._providers_key: str | None = None
        self._providers_settings: Any = None
        self.provider_error: str | None = None
        self.policy = FailoverPolicy({})
        self.tools: dict[str, Tool] = {}
        self._limiter = trio.CapacityLimiter(app.settings.performance.agents.max_concurrent_runs)
        self._overrides: dict[str, SessionOverrides] = {}
        self._bootstrap: Bootstrap | None = None
        self.totals: dict[str, UsageTotals] = {}
        """Usage per provider since the process started (``usage.status``)."""

    # ------------------------------------------------------------ service

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        settings = self.app.settings
        workspace = resolve_workspace(settings.agent.workspace)
        try:
            written = await trio.to_thread.run_sync(seed_workspace, workspace)
            if written:
                logger.info("seeded the agent workspace {} with {}", workspace, ", ".join(written))
        except OSError as exc:
            logger.warning("cannot prepare the agent workspace {}: {}", workspace, exc)
        self.tools = build_tools(self.app.plugins.tools(), settings, self.app.paths.state_dir)
        for tool in self.tools.values():
            bind = getattr(tool, "bind", None)
            if callable(bind):
                bind(self)
        self.providers()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True):
                for provider in self._providers.values():
                    await _close(provider)

    def status(self) -> dict[str, Any]:
        refs = self.model_candidates(None)
        return {
            "ok": True,
            "model": str(refs[0]) if refs else None,
            "configured": bool(refs),
            "providerError": self.provider_error,
            "activeRuns": sum(1 for lane in self.lanes.values() if lane.active is not None),
            "queued": sum(len(lane.queue) for lane in self.lanes.values()),
            "tools": sorted(self.tools),
            "failover": self.policy.status(),
        }

    # ------------------------------------------------------------ the contract

    async def submit(
        self,
        *,
        session_key: str,
        text: str,
        origin: Origin | None = None,
        idempotency_key: str | None = None,
        run_id: str | None = None,
    ) -> str:
        """Queue ``text`` on the session's lane (per its queue mode); returns the run id
        (``run_id`` when the caller chose one, as OpenClaw clients do with their idempotency key).

        Raises ``ValueError`` (:class:`moltbot.sessions.InvalidSessionKey`) for a bad key or a
        ``run_id`` already taken, and ``RuntimeError`` when the runtime is not running.
        """
        key = self.normalize_key(session_key)
        if idempotency_key and idempotency_key in self._idempotency:
            return self._idempotency[idempotency_key]
        if self._nursery is None:
            raise RuntimeError("the agent runtime is not running")
        if run_id is not None and run_id in self.runs:
            raise ValueError(f"run id {run_id!r} is already in use; send a new idempotencyKey")
        run = Run(id=run_id or str(uuid.uuid4()), session_key=key, text=text, origin=origin)
        self._remember(run, idempotency_key)
        command = parse_command(text)
        if command is not None:
            self._nursery.start_soon(self._command, run, command)
            return run.id
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane(key)
        cap = self.app.settings.messages.queue.cap
        for dropped in lane.add(run, self.queue_mode(key), cap):
            self._finish_unstarted(dropped, "dropped from the queue")
        if not lane.working:
            lane.working = True
            self._nursery.start_soon(self._lane_worker, lane)
        return run.id

    async def wait(self, run_id: str, timeout: float | None = None) -> dict[str, Any]:
        """The run's final result ``{runId, status: ok|error|aborted, text, usage, ...}``, or
        ``{runId, status: "timeout"}`` when it is still running after ``timeout`` seconds.

        Raises ``KeyError`` for a run id this process does not know.
        """
        run = self.runs[run_id]
        with trio.move_on_after(timeout if timeout is not None else float("inf")):
            await run.done.wait()
        if run.result is None:
            return {"runId": run_id, "status": "timeout", "sessionKey": run.session_key}
        return run.result

    # ------------------------------------------------------------ helpers used by RPC and commands

    def normalize_key(self, raw: str) -> str:
        """``main`` and bare names map into the main agent (``foo`` -> ``agent:main:foo``)."""
        raw = raw.strip()
        main = self.app.settings.session.main_key
        if not raw or raw == main:
            raw = f"agent:main:{main}"
        elif not raw.startswith("agent:"):
            raw = f"agent:main:{raw}"
        parse_key(raw)
        return raw

    def overrides(self, key: str) -> SessionOverrides:
        agent = parse_key(key).agent_id
        if agent not in self._overrides:
            self._overrides[agent] = SessionOverrides(self.app.paths.state_dir / "agents" / agent)
        return self._overrides[agent]

    def queue_mode(self, key: str) -> QueueMode:
        mode = self.overrides(key).value(key, "queueMode")
        return mode if mode in QUEUE_MODES else self.app.settings.messages.queue.mode

    async def set_override(self, key: str, **values: Any) -> dict[str, Any]:
        store = self.overrides(key)
        return await trio.to_thread.run_sync(lambda: store.update(key, **values))

    async def store(self, key: str) -> SessionStore:
        return await self.app.service("sessions").store(parse_key(key).agent_id)

    async def reset_session(self, key: str, reason: str) -> Session:
        return await (await self.store(key)).reset(key, reason)

    def providers(self) -> dict[str, ModelProvider]:
        """The configured providers, rebuilt (with a fresh failover policy) when the models
        config changed since they were built."""
        settings = self.app.settings
        if settings is self._providers_settings:
            return self._providers
        marker = settings.models.model_dump_json() + repr(settings.agent.model)
        if marker != self._providers_key:
            old = self._providers
            try:
                self._providers = build_providers(settings, self.app.plugins, self.app.paths.state_dir)
                self.provider_error = None
            except ConfigError as exc:
                self._providers = {}
                self.provider_error = exc.render()
                logger.error("model providers cannot be built: {}", self.provider_error)
            self.policy = FailoverPolicy(self._providers)
            self._providers_key = marker
            if old and self._nursery is not None:
                busy = [run.id for run in self.runs.values() if run.status == "running"]
                self._nursery.start_soon(self._retire, old, busy)
        self._providers_settings = settings
        return self._providers

    async def _retire(self, old: dict[str, ModelProvider], busy: list[str]) -> None:
        """Close replaced providers once the runs that may still stream from them have ended
        (closing at once would cut those runs off mid-answer)."""
        for run_id in busy:
            with contextlib.suppress(KeyError):
                await self.wait(run_id)
        for provider in old.values():
            await _close(provider)

    def model_candidates(self, key: str | None) -> list[Any]:
        override = self.overrides(key).value(key, "model") if key else None
        try:
            return candidates(self.app.settings, override=override)
        except ConfigError:
            return []

    def bootstrap(self) -> Bootstrap:
        settings = self.app.settings
        workspace = resolve_workspace(settings.agent.workspace)
        cap = settings.agent.bootstrap_max_chars
        if (
            self._bootstrap is None
            or self._bootstrap.workspace != workspace
            or self._bootstrap.max_chars != cap
        ):
            self._bootstrap = Bootstrap(workspace, max_chars=cap)
        return self._bootstrap

    def context_window(self, key: str) -> int:
        refs = self.model_candidates(key)
        entry = model_entry(self.app.settings, refs[0]) if refs else None
        return (entry.context_window if entry else None) or self.app.settings.agent.context_tokens

    async def session_info(self, key: str) -> dict[str, Any]:
        store = await self.store(key)
        meta = store.meta(key)
        session = await store.get(key) if meta else None
        refs = self.model_candidates(key)
        lane = self.lanes.get(key)
        last = next((r for r in reversed(self.runs.values()) if r.session_key == key and r.result), None)
        info: dict[str, Any] = {
            "key": key,
            "sessionId": meta.session_id if meta else None,
            "model": str(refs[0]) if refs else None,
            "modelOverride": self.overrides(key).value(key, "model"),
            "queueMode": self.queue_mode(key),
            "running": bool(lane and lane.active),
            "queued": len(lane.queue) if lane else 0,
            "contextWindow": self.context_window(key),
            "contextTokens": session.context().tokens if session else 0,
        }
        if meta:
            info.update(
                messageCount=meta.message_count,
                inputTokens=meta.input_tokens,
                outputTokens=meta.output_tokens,
                totalTokens=meta.total_tokens,
                costUsd=meta.cost,
                compactions=meta.compaction_count,
            )
        if last and last.result:
            info["lastRunTokens"] = last.result["usage"]["total"]
        return info

    async def abort(self, key: str | None, run_id: str | None = None) -> list[str]:
        """Abort the running turn and drop the queued messages of ``key`` (or just ``run_id``)."""
        aborted: list[str] = []
        lanes = [self.lanes[key]] if key in self.lanes else ([] if key else list(self.lanes.values()))
        for lane in lanes:
            active = lane.active
            if active is not None and not active.finished and run_id in (None, active.id):
                active.abort()
                aborted.append(active.id)
            for queued in [r for r in lane.queue if run_id in (None, r.id)]:
                lane.queue.remove(queued)
                self._finish_unstarted(queued, "aborted before it started")
                aborted.append(queued.id)
        return aborted

    async def compact(self, key: str, *, instructions: str | None = None) -> dict[str, Any] | None:
        from moltbot.agent.execute import compact_session

        session = await (await self.store(key)).get(key)
        if session is None:
            return None
        return await compact_session(self, key, session, keep_recent_tokens=0, instructions=instructions)

    def add_usage(self, item: UsageRecord) -> None:
        self.totals.setdefault(item.provider, UsageTotals()).add(item)
        self.app.metrics.inc("agents.tokens", item.input_tokens, direction="input")
        self.app.metrics.inc("agents.tokens", item.output_tokens, direction="output")

    def broadcast(self, event: str, payload: dict[str, Any]) -> None:
        """To operators holding ``operator.read``, and to a listener of the run (HTTP streams)."""
        gateway = self.app.services.get("gateway")
        if gateway is not None:
            gateway.broadcast(event, payload, scope="operator.read")
        listener = self.listeners.get(payload.get("runId", ""))
        if listener is not None:
            listener(event, payload)

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        """One of ``maxConcurrentRuns`` run slots (waits FIFO)."""
        resources = self.app.services.get("resources")
        if resources is not None:
            async with resources.acquire("agent", holder=f"session:{key}"):
                yield
        else:
            async with self._limiter:
                yield

    # ------------------------------------------------------------ internals

    def _remember(self, run: Run, idempotency_key: str | None) -> None:
        self.runs[run.id] = run
        if idempotency_key:
            self._idempotency[idempotency_key] = run.id
        while len(self.runs) > KEEP_FINISHED:
            oldest_id, oldest = next(iter(self.runs.items()))
            if not oldest.finished:
                break
            del self.runs[oldest_id]
        while len(self._idempotency) > KEEP_FINISHED:
            del self._idempotency[next(iter(self._idempotency))]

    def publish_active(self) -> None:
        active = sum(1 for lane in self.lanes.values() if lane.active is not None)
        self.app.metrics.set("agents.active_sessions", active)

    async def _lane_worker(self, lane: Lane) -> None:
        from moltbot.agent.execute import execute

        try:
            while (run := lane.next_run(self.queue_mode(lane.key))) is not None:
                lane.active = run
                self.publish_active()
                try:
                    await execute(self, lane, run)
                finally:
                    lane.active = None
                    self.publish_active()
        finally:
            lane.working = False
            if not lane.queue and self.lanes.get(lane.key) is lane:
                del self.lanes[lane.key]

    def _finish_unstarted(self, run: Run, why: str) -> None:
        result = base_result(run, status="aborted", text="", stop_reason="aborted")
        result["error"] = why
        run.finish(result)
        events = RunEvents(
            run_id=run.id,
            session_key=run.session_key,
            agent_id=parse_key(run.session_key).agent_id,
            broadcast=self.broadcast,
            trace=RunTrace(run.id, run.session_key, "main"),
        )
        events.end("aborted", "", "aborted")

    async def _command(self, run: Run, command: Command) -> None:
        from moltbot.agent.execute import deliver

        events = RunEvents(
            run_id=run.id,
            session_key=run.session_key,
            agent_id=parse_key(run.session_key).agent_id,
            broadcast=self.broadcast,
            trace=RunTrace(run.id, run.session_key, "main"),
        )
        events.start()
        status, error = "ok", None
        try:
            text = await run_command(self, run.session_key, command)
        except Exception as exc:
            logger.opt(exception=exc).error(
                "chat command /{} failed [session={}]", command.name, run.session_key
            )
            status, error = "error", f"/{command.name} failed: {exc}"
            text = error
        events.end(status, text, "command", error)
        result = base_result(run, status=status, text=text, stop_reason="command")
        result["error"] = error
        run.finish(result)
        await deliver(self, run, text)


async def _close(provider: ModelProvider) -> None:
    try:
        await provider.aclose()
    except Exception as exc:
        logger.warning("closing a model provider failed: {}", exc)

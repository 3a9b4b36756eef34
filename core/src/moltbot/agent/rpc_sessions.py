"""Gateway methods over sessions: ``sessions.list|preview|patch|reset|delete|compact``."""

from __future__ import annotations

import time
from typing import Any, Literal

import trio
from pydantic import Field

from moltbot.agent.lanes import QUEUE_MODES
from moltbot.agent.rpc import Params, key_of, runtime_of
from moltbot.errors import ConfigError
from moltbot.interfaces.provider import ProviderError
from moltbot.interfaces.rpc import RpcContext, RpcError
from moltbot.models.refs import resolve
from moltbot.sessions.keys import parse_key
from moltbot.sessions.meta import SessionMeta


class ListParams(Params):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)
    agent_id: str = "main"


class PreviewParams(Params):
    keys: list[str] = Field(min_length=1, max_length=64)
    limit: int = Field(12, ge=1, le=100)
    max_chars: int = Field(240, ge=20, le=4000)


class PatchParams(Params):
    key: str
    model: str | None = None
    queue_mode: Literal["steer", "followup", "collect", "interrupt"] | None = None
    label: str | None = Field(None, max_length=200)


class ResetParams(Params):
    key: str
    reason: Literal["new", "reset", "manual"] = "reset"


class DeleteParams(Params):
    key: str


class CompactParams(Params):
    key: str
    instructions: str | None = Field(None, max_length=2000)


def row(meta: SessionMeta, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        **meta.to_json(),
        "updatedAt": _ms(meta.updated_at),
        "createdAt": _ms(meta.created_at),
        "totalTokens": meta.total_tokens,
        "kind": meta.chat_type or "direct",
        **extra,
    }


def _ms(iso: str | None) -> int | None:
    from datetime import datetime

    return int(datetime.fromisoformat(iso).timestamp() * 1000) if iso else None


async def sessions_list(ctx: RpcContext) -> dict[str, Any]:
    params: ListParams = ctx.params
    runtime = runtime_of(ctx)
    store = await ctx.app.service("sessions").store(params.agent_id)
    metas = store.list()
    page = metas[params.offset : params.offset + params.limit]
    rows = []
    for meta in page:
        overrides = runtime.overrides(meta.key).get(meta.key)
        lane = runtime.lanes.get(meta.key)
        rows.append(
            row(
                meta,
                {
                    "label": overrides.get("label"),
                    "modelOverride": overrides.get("model"),
                    "running": bool(lane and lane.active),
                },
            )
        )
    end = params.offset + len(page)
    refs = runtime.model_candidates(None)
    return {
        "ts": int(time.time() * 1000),
        "path": str(store.directory),
        "count": len(rows),
        "totalCount": len(metas),
        "limitApplied": params.limit,
        "nextOffset": end if end < len(metas) else None,
        "hasMore": end < len(metas),
        "defaults": {
            "model": str(refs[0]) if refs else None,
            "contextTokens": ctx.app.settings.agent.context_tokens,
            "queueMode": ctx.app.settings.messages.queue.mode,
        },
        "sessions": rows,
    }


async def sessions_preview(ctx: RpcContext) -> dict[str, Any]:
    params: PreviewParams = ctx.params
    runtime = runtime_of(ctx)
    previews = []
    for raw in params.keys:
        key = key_of(runtime, raw)
        session = await (await runtime.store(key)).get(key)
        if session is None:
            previews.append({"key": key, "status": "missing", "items": []})
            continue
        items = [
            {"role": e.get("role"), "text": (e.get("content") or "")[: params.max_chars]}
            for e in session.entries
            if e.get("type") == "message" and e.get("content")
        ]
        previews.append({"key": key, "status": "ok", "items": items[-params.limit :]})
    return {"ts": int(time.time() * 1000), "previews": previews}


async def sessions_patch(ctx: RpcContext) -> dict[str, Any]:
    """{key, model?, queueMode?, label?}: ``null`` clears a field, an absent one is unchanged."""
    params: PatchParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.key)
    changes: dict[str, Any] = {}
    if "model" in params.model_fields_set:
        if params.model is not None:
            try:
                ref = resolve(params.model, ctx.app.settings)
            except (ValueError, ConfigError) as exc:
                raise RpcError("INVALID_REQUEST", f"model: {exc}") from None
            if ref.provider not in runtime.providers():
                raise RpcError("INVALID_REQUEST", f"model: no provider {ref.provider!r} is configured")
            changes["model"] = str(ref)
        else:
            changes["model"] = None
    if "queue_mode" in params.model_fields_set:
        changes["queueMode"] = params.queue_mode
    if "label" in params.model_fields_set:
        changes["label"] = params.label
    entry = await runtime.set_override(key, **changes) if changes else runtime.overrides(key).get(key)
    return {"ok": True, "key": key, "entry": entry, "queueModes": list(QUEUE_MODES)}


async def sessions_reset(ctx: RpcContext) -> dict[str, Any]:
    params: ResetParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.key)
    aborted = await runtime.abort(key)
    session = await runtime.reset_session(key, "manual" if params.reason != "new" else "new")
    return {"ok": True, "key": key, "entry": {"sessionId": session.id}, "abortedRuns": aborted}


async def sessions_delete(ctx: RpcContext) -> dict[str, Any]:
    """{key}: stop the key's runs, then forget it. Its transcripts stay on disk renamed
    ``*.jsonl.deleted`` (see :meth:`SessionStore.delete`); its overrides are cleared. The main
    session cannot be deleted (``sessions.reset`` starts it over), as in OpenClaw."""
    params: DeleteParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.key)
    if key == key_of(runtime, None, parse_key(key).agent_id):
        raise RpcError("INVALID_REQUEST", f"the main session {key} cannot be deleted; use sessions.reset")
    aborted = await runtime.abort(key)
    cap = max(0.5, ctx.app.settings.performance.gateway.request_timeout / 1000 - 1)
    runs = [run for run in map(runtime.runs.get, aborted) if run is not None]
    with trio.move_on_after(cap):
        for run in runs:
            await run.done.wait()
    if not all(run.done.is_set() for run in runs):
        raise RpcError("UNAVAILABLE", f"the runs of {key} are still stopping; try again", retryable=True)
    deleted = await (await runtime.store(key)).delete(key)
    if runtime.overrides(key).get(key):
        await runtime.set_override(key, model=None, queueMode=None, label=None)
    return {"ok": True, "key": key, "deleted": deleted, "abortedRuns": aborted}


async def sessions_compact(ctx: RpcContext) -> dict[str, Any]:
    params: CompactParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.key)
    try:
        stored = await runtime.compact(key, instructions=params.instructions)
    except ProviderError as exc:
        raise RpcError("UNAVAILABLE", f"the summary could not be made: {exc}", retryable=True) from None
    if stored is None:
        return {"ok": True, "key": key, "compacted": False}
    return {"ok": True, "key": key, "compacted": True, "tokensBefore": stored["tokensBefore"]}

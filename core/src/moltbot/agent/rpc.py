"""Gateway methods of the agent: ``agent``, ``agent.wait``, ``chat.*``, ``models.list``,
``usage.status`` (session methods are in :mod:`moltbot.agent.rpc_sessions`).

Params follow OpenClaw's shapes. The agent and chat methods ignore fields they do not use
(OpenClaw clients send ``thinking``, ``deliver``, ``attachments``...), so those clients work.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from moltbot.agent.lanes import Run
from moltbot.channels.webchat import WebChatChannel, WebChatUnavailable
from moltbot.interfaces.rpc import Accepted, RpcContext, RpcError
from moltbot.models.registry import catalog
from moltbot.sessions.keys import InvalidSessionKey

if TYPE_CHECKING:
    from moltbot.agent.runtime import AgentRuntime

HISTORY_LIMIT = 1000


class Params(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class AgentParams(Params):
    message: str = Field(min_length=1)
    session_key: str | None = None
    agent_id: str | None = None


class WaitParams(Params):
    run_id: str
    timeout_ms: int | None = Field(None, ge=0)


class ChatSendParams(Params):
    session_key: str
    message: str = Field(min_length=1)


class ChatHistoryParams(Params):
    session_key: str
    limit: int = Field(200, ge=1, le=HISTORY_LIMIT)


class ChatAbortParams(Params):
    session_key: str | None = None
    run_id: str | None = None


def runtime_of(ctx: RpcContext) -> AgentRuntime:
    runtime = ctx.app.services.get("agent")
    if runtime is None:
        raise RpcError("UNAVAILABLE", "the agent runtime is not running in this process")
    return runtime


def key_of(runtime: AgentRuntime, raw: str | None, agent_id: str | None = None) -> str:
    try:
        if raw is None:
            return runtime.normalize_key(
                f"agent:{agent_id or 'main'}:{runtime.app.settings.session.main_key}"
            )
        return runtime.normalize_key(raw)
    except InvalidSessionKey as exc:
        raise RpcError("INVALID_REQUEST", str(exc)) from None


async def submit(runtime: AgentRuntime, key: str, text: str, run_id: str | None) -> str:
    try:
        return await runtime.submit(session_key=key, text=text, run_id=run_id)
    except RuntimeError as exc:
        raise RpcError("UNAVAILABLE", str(exc), retryable=True) from None
    except ValueError as exc:
        raise RpcError("INVALID_REQUEST", str(exc)) from None


async def agent(ctx: RpcContext) -> Accepted:
    """``agent`` {message, sessionKey?, agentId?}: queue a turn and answer twice on the same
    request id, as OpenClaw does: ``status: "accepted"`` at once, then the final result (clients
    that only read the first answer use ``agent.wait``)."""
    params: AgentParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.session_key, params.agent_id)
    run_id = await submit(runtime, key, params.message, ctx.idempotency_key)
    accepted = {
        "runId": run_id,
        "sessionKey": key,
        "agentId": key.split(":")[1],
        "status": "accepted",
        "acceptedAt": int(time.time() * 1000),
    }

    async def final() -> dict[str, Any]:
        return final_payload(await runtime.wait(run_id), started_ms=accepted["acceptedAt"])

    return Accepted(payload=accepted, final=final)


def final_payload(result: dict[str, Any], *, started_ms: int) -> dict[str, Any]:
    """A finished run in the shape of OpenClaw's final ``agent`` response."""
    return {
        "runId": result["runId"],
        "status": result["status"],
        "summary": "completed" if result["status"] == "ok" else result["status"],
        "error": result.get("error"),
        "result": {
            "payloads": [{"text": result.get("text", ""), "mediaUrl": None}],
            "meta": {
                "durationMs": int(time.time() * 1000) - started_ms,
                "agentMeta": {
                    "sessionId": result.get("sessionId"),
                    "sessionKey": result.get("sessionKey"),
                    "model": result.get("model"),
                    "usage": result.get("usage"),
                },
            },
        },
    }


async def agent_wait(ctx: RpcContext) -> dict[str, Any]:
    """``agent.wait`` {runId, timeoutMs?}: the final result, or ``status: "timeout"``.

    The wait is capped a second short of the gateway's request timeout so the answer is a
    result, not a gateway timeout error; callers loop on ``timeout``.
    """
    params: WaitParams = ctx.params
    runtime = runtime_of(ctx)
    cap = max(0.5, ctx.app.settings.performance.gateway.request_timeout / 1000 - 1)
    wanted = params.timeout_ms / 1000 if params.timeout_ms is not None else cap
    try:
        return await runtime.wait(params.run_id, timeout=min(wanted, cap))
    except KeyError:
        raise RpcError("NOT_FOUND", f"no run {params.run_id!r} in this gateway process") from None


async def chat_send(ctx: RpcContext) -> dict[str, Any]:
    """``chat.send`` {sessionKey, message, idempotencyKey}: a WebChat message. It goes through
    the ``webchat`` channel like any channel's message (dedupe, access policy, the agent); the
    run id is the idempotency key, and progress arrives as ``chat`` events."""
    params: ChatSendParams = ctx.params
    key = key_of(runtime_of(ctx), params.session_key)
    run_id = ctx.idempotency_key or str(uuid.uuid4())
    channels = ctx.app.services.get("channels")
    try:
        webchat = channels.get("webchat").channel if channels is not None else None
    except LookupError:
        webchat = None
    if not isinstance(webchat, WebChatChannel):
        raise RpcError("UNAVAILABLE", "webchat is not running (is channels.webchat.enabled false?)")
    try:
        await webchat.post(text=params.message, session_key=key, sender=sender_of(ctx), run_id=run_id)
    except WebChatUnavailable as exc:
        raise RpcError("UNAVAILABLE", str(exc), retryable=True) from None
    return {"runId": run_id, "status": "started"}


def sender_of(ctx: RpcContext) -> str:
    """Who is writing: the client's device id when it proved one, else its client id."""
    gateway = ctx.app.services.get("gateway")
    connection = gateway.connections.get(ctx.conn_id) if gateway is not None else None
    summary = getattr(connection, "summary", None)
    if summary is None:
        return "operator"
    return summary.device_id or str(summary.client.get("id") or "operator")


async def chat_abort(ctx: RpcContext) -> dict[str, Any]:
    """``chat.abort`` {sessionKey?, runId?}: abort a session's run (and its queue), or one run."""
    params: ChatAbortParams = ctx.params
    runtime = runtime_of(ctx)
    if params.session_key is None and params.run_id is None:
        raise RpcError("INVALID_REQUEST", "chat.abort needs sessionKey or runId")
    key = key_of(runtime, params.session_key) if params.session_key else None
    if key is None:
        run: Run | None = runtime.runs.get(params.run_id or "")
        if run is None:
            raise RpcError("NOT_FOUND", f"no run {params.run_id!r} in this gateway process")
        key = run.merged_into.session_key if run.merged_into else run.session_key
    aborted = await runtime.abort(key, params.run_id)
    return {"ok": True, "aborted": bool(aborted), "runIds": aborted}


async def chat_history(ctx: RpcContext) -> dict[str, Any]:
    """``chat.history`` {sessionKey, limit?}: the current session's messages, oldest first."""
    params: ChatHistoryParams = ctx.params
    runtime = runtime_of(ctx)
    key = key_of(runtime, params.session_key)
    session = await (await runtime.store(key)).get(key)
    messages = [history_item(e) for e in session.entries] if session else []
    messages = [m for m in messages if m is not None]
    total = len(messages)
    info = await runtime.session_info(key)
    return {
        "sessionKey": key,
        "sessionId": session.id if session else None,
        "messages": messages[-params.limit :],
        "hasMore": total > params.limit,
        "totalMessages": total,
        "defaults": {"model": info["model"], "contextTokens": info["contextWindow"]},
        "sessionInfo": info,
    }


def history_item(entry: dict[str, Any]) -> dict[str, Any] | None:
    """A transcript entry in OpenClaw's message shape (``content`` as text parts)."""
    kind = entry.get("type")
    ts = _ms(entry.get("timestamp"))
    if kind == "message":
        item: dict[str, Any] = {
            "role": entry.get("role"),
            "content": [{"type": "text", "text": entry.get("content") or ""}],
            "timestamp": ts,
        }
        for call in entry.get("toolCalls") or ():
            item["content"].append(
                {
                    "type": "toolCall",
                    "id": call.get("id"),
                    "name": call.get("name"),
                    "arguments": call.get("arguments"),
                }
            )
        if entry.get("model"):
            item["model"] = entry["model"]
        if entry.get("aborted"):
            item["stopReason"] = "aborted"
        return item
    if kind == "toolResult":
        return {
            "role": "toolResult",
            "toolCallId": entry.get("toolCallId"),
            "toolName": entry.get("name"),
            "content": [{"type": "text", "text": entry.get("content") or ""}],
            "isError": bool(entry.get("isError")),
            "timestamp": ts,
        }
    return None


def _ms(iso: Any) -> int | None:
    from datetime import datetime

    try:
        return int(datetime.fromisoformat(str(iso)).timestamp() * 1000)
    except ValueError:
        return None


async def models_list(ctx: RpcContext) -> dict[str, Any]:
    """``models.list``: the agent's candidates and every configured model (OpenClaw's rows)."""
    runtime = ctx.app.services.get("agent")
    available = set(runtime.providers()) if runtime is not None else set()
    rows = []
    for row in catalog(ctx.app.settings):
        rows.append(
            {
                "id": row["model"],
                "ref": row["id"],
                "name": row["alias"] or row["model"],
                "provider": row["provider"],
                "contextWindow": row["contextWindow"],
                "reasoning": False,
                "tags": ["default"] if row["role"] == "primary" else ([row["role"]] if row["role"] else []),
                "available": row["provider"] in available if runtime is not None else None,
            }
        )
    return {"models": rows}


async def usage_status(ctx: RpcContext) -> dict[str, Any]:
    """``usage.status``: tokens and cost per provider since start, and resting credentials."""
    runtime = runtime_of(ctx)
    providers = [{"provider": name, **totals.to_json()} for name, totals in sorted(runtime.totals.items())]
    return {
        "updatedAt": int(time.time() * 1000),
        "providers": providers,
        "cooldowns": runtime.policy.status(),
    }

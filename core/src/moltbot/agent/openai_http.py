"""An OpenAI-compatible HTTP API where the "model" names an agent, so any OpenAI client can
talk to the assistant: ``POST /v1/chat/completions`` (streamed or not) and ``GET /v1/models``.

Off unless ``gateway.http.endpoints.chatCompletions.enabled``; the gateway checks the bearer
credential before these handlers run. Models are ``moltbot`` or ``moltbot:<agentId>``. The
session is ``x-moltbot-session-key`` when sent, else one per OpenAI ``user``, else a fresh one
per request; only the last user message is sent, since the session keeps the history.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import trio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from moltbot.sessions.keys import InvalidSessionKey, encode_part

MODEL_PREFIX = "moltbot"
SESSION_HEADER = "x-moltbot-session-key"


def _app(request: Request) -> Any:
    """The gateway stores the running App as ``state.moltbot`` on its Starlette app."""
    return getattr(request.app.state, "moltbot", None)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": None}}, status_code=status)


def _refusal(app: Any) -> Response | None:
    """404 while the API is off; 503 when the server has no app attached (a wiring bug)."""
    if app is None:
        return _error(503, "the moltbot app is not attached to this HTTP server", "server_error")
    if not app.settings.gateway.http.endpoints.chat_completions.enabled:
        return _error(404, "the OpenAI-compatible API is disabled (gateway.http.endpoints.chatCompletions)")
    return None


def agent_of(model: Any) -> str | None:
    if model == MODEL_PREFIX:
        return "main"
    if isinstance(model, str) and model.startswith(MODEL_PREFIX + ":"):
        return model.split(":", 1)[1] or None
    return None


def last_user_text(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                parts = [
                    p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
                ]
                return "\n".join(parts)
    return None


async def models_route(request: Request) -> Response:
    app = _app(request)
    if (refusal := _refusal(app)) is not None:
        return refusal
    data = [
        {"id": name, "object": "model", "created": 0, "owned_by": "moltbot"}
        for name in ("moltbot", "moltbot:main")
    ]
    return JSONResponse({"object": "list", "data": data})


async def completions_route(request: Request) -> Response:
    app = _app(request)
    if (refusal := _refusal(app)) is not None:
        return refusal
    runtime = app.services.get("agent")
    if runtime is None:
        return _error(503, "the agent runtime is not running", "server_error")
    try:
        body = await request.json()
    except ValueError:
        return _error(400, "the body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    agent_id = agent_of(body.get("model"))
    if agent_id is None:
        return _error(
            404, f"model {body.get('model')!r} does not exist; use 'moltbot' or 'moltbot:<agentId>'"
        )
    text = last_user_text(body.get("messages"))
    if not text:
        return _error(400, "messages must contain a user message with text")
    try:
        key = _session_key(request, body, agent_id, runtime)
    except InvalidSessionKey as exc:
        return _error(400, str(exc))
    run_id = await runtime.submit(session_key=key, text=text)
    model = body["model"]
    if body.get("stream"):
        return StreamingResponse(_stream(runtime, run_id, model), media_type="text/event-stream")
    result = await runtime.wait(run_id)
    return JSONResponse(_completion(run_id, model, result))


def _session_key(request: Request, body: dict[str, Any], agent_id: str, runtime: Any) -> str:
    header = request.headers.get(SESSION_HEADER)
    if header:
        return runtime.normalize_key(header)
    user = body.get("user")
    if isinstance(user, str) and user:
        return runtime.normalize_key(f"agent:{agent_id}:openai:dm:{encode_part(user)}")
    return runtime.normalize_key(f"agent:{agent_id}:openai:{uuid.uuid4().hex}")


def _completion(run_id: str, model: str, result: dict[str, Any]) -> dict[str, Any]:
    usage = result.get("usage") or {}
    return {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.get("text", "")},
                "finish_reason": "stop" if result.get("status") == "ok" else "error",
            }
        ],
        "usage": {
            "prompt_tokens": usage.get("input", 0),
            "completion_tokens": usage.get("output", 0),
            "total_tokens": usage.get("total", 0),
        },
    }


def _chunk(run_id: str, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    data = {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(runtime: Any, run_id: str, model: str) -> AsyncIterator[str]:
    """Text deltas as chunks while the run goes, then the finish chunk and ``[DONE]``."""
    send, receive = trio.open_memory_channel[str | None](math.inf)

    def push(item: str | None) -> None:
        send.send_nowait(item)

    def listen(event: str, payload: dict[str, Any]) -> None:
        if event == "agent" and payload.get("stream") == "assistant":
            push(payload["data"]["delta"])

    run = runtime.runs[run_id]
    runtime.listeners[run_id] = listen
    run.on_finish = lambda _result: push(None)
    if run.finished:
        push(None)
    try:
        yield _chunk(run_id, model, {"role": "assistant", "content": ""})
        streamed = False
        while (delta := await receive.receive()) is not None:
            streamed = True
            yield _chunk(run_id, model, {"content": delta})
        result = await runtime.wait(run_id)
        if not streamed and result.get("text"):
            yield _chunk(run_id, model, {"content": result["text"]})
        yield _chunk(run_id, model, {}, "stop" if result.get("status") == "ok" else "error")
        yield "data: [DONE]\n\n"
    finally:
        runtime.listeners.pop(run_id, None)
        run.on_finish = None

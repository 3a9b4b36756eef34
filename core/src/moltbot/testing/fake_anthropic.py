"""A protocol-faithful fake Anthropic Messages API server on loopback, scriptable per test.

Speaks ``POST /v1/messages`` (streamed SSE: ``message_start``, ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``) / ``content_block_stop``,
``ping``, ``message_delta`` with usage and ``stop_reason``, ``message_stop``, and ``error``
events; or one JSON message) and ``GET /v1/models``. It requires the ``anthropic-version``
header, checks ``x-api-key`` when ``api_keys`` is set, and answers errors with Anthropic's
``{"type": "error", "error": {...}}`` shape. Scripting is shared with
:mod:`moltbot.testing.fake_openai` (:class:`Reply`, :class:`ToolCallScript`).
"""

from __future__ import annotations

import json
from typing import Any

import trio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from moltbot.testing.fake_openai import (
    RecordedRequest,
    Reply,
    ScriptedFake,
    ToolCallScript,
    fragments,
    split_text,
    sse,
)

__all__ = ["FakeAnthropic", "RecordedRequest", "Reply", "ToolCallScript"]


class FakeAnthropic(ScriptedFake):
    """The Anthropic Messages wire protocol, version ``2023-06-01``."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/messages", self.messages, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
        ]

    def last_user_text(self, body: Any) -> str:
        for message in reversed(body.get("messages", []) if isinstance(body, dict) else []):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                return content
            texts = [
                b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
            ]
            if texts:
                return "".join(texts)
        return ""

    def error(self, status: int, etype: str, message: str, **headers: str) -> Response:
        body = {"type": "error", "error": {"type": etype, "message": message}}
        return JSONResponse(body, status_code=status, headers={"request-id": "req_fake", **headers})

    def rejected(self, request: Request) -> Response | None:
        if self.api_keys is not None and request.headers.get("x-api-key") not in self.api_keys:
            return self.error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        return None

    async def models(self, request: Request) -> Response:
        await self.record(request)
        if denied := self.rejected(request):
            return denied
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
            for m in self.model_ids
        ]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last})

    async def messages(self, request: Request) -> Response:
        body = await self.record(request)
        if denied := self.rejected(request):
            return denied
        problem = self.invalid(body)
        if problem:
            return self.error(400, "invalid_request_error", problem)
        reply = self.next_reply(body)
        if reply.delay:
            await trio.sleep(reply.delay)
        if reply.status != 200:
            etype = reply.error_type or "api_error"
            return self.error(reply.status, etype, reply.error_message or "error", **reply.headers)
        if reply.raw is not None:
            return self.stream_response(reply, self.paced(reply, [reply.raw]))
        if not body.get("stream"):
            return JSONResponse(self.message(body, reply), headers=reply.headers)
        return self.stream_response(reply, self.paced(reply, self.events(body, reply)))

    def invalid(self, body: Any) -> str | None:
        """The checks the real API makes that clients most often get wrong."""
        if not isinstance(body, dict):
            return "body must be a JSON object"
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return f"{key}: Field required"
        roles = [m.get("role") for m in body["messages"]]
        if any(r not in ("user", "assistant") for r in roles):
            return "messages: roles must be 'user' or 'assistant' (the system prompt is a top-level field)"
        return None

    def stop_reason(self, reply: Reply) -> str:
        return reply.stop or ("tool_use" if reply.tool_calls else "end_turn")

    def blocks(self, reply: Reply) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        content += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments or "{}")}
            for c in reply.tool_calls
        ]
        return content

    def message(self, body: dict[str, Any], reply: Reply, *, streaming: bool = False) -> dict[str, Any]:
        input_tokens, output_tokens = reply.usage
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "content": [] if streaming else self.blocks(reply),
            "model": body["model"],
            "stop_reason": None if streaming else self.stop_reason(reply),
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "output_tokens": 1 if streaming else output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }

    def events(self, body: dict[str, Any], reply: Reply) -> list[str]:
        out = [
            sse(
                {"type": "message_start", "message": self.message(body, reply, streaming=True)},
                "message_start",
            )
        ]
        index = 0
        pieces = split_text(reply)
        if pieces:
            out.append(self._start(index, {"type": "text", "text": ""}))
            out.append(sse({"type": "ping"}, "ping"))
            for piece in pieces:
                out.append(self._delta(index, {"type": "text_delta", "text": piece}))
            out.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
            index += 1
        if reply.drop:
            return out
        if reply.stream_error:
            etype, message = reply.stream_error
            out.append(sse({"type": "error", "error": {"type": etype, "message": message}}, "error"))
            return out
        for call in reply.tool_calls:
            out.append(
                self._start(index, {"type": "tool_use", "id": call.id, "name": call.name, "input": {}})
            )
            for piece in fragments(call.arguments, call.fragments):
                out.append(self._delta(index, {"type": "input_json_delta", "partial_json": piece}))
            out.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
            index += 1
        delta = {"stop_reason": self.stop_reason(reply), "stop_sequence": None}
        out.append(
            sse(
                {"type": "message_delta", "delta": delta, "usage": {"output_tokens": reply.usage[1]}},
                "message_delta",
            )
        )
        out.append(sse({"type": "message_stop"}, "message_stop"))
        return out

    def _start(self, index: int, block: dict[str, Any]) -> str:
        return sse(
            {"type": "content_block_start", "index": index, "content_block": block}, "content_block_start"
        )

    def _delta(self, index: int, delta: dict[str, Any]) -> str:
        return sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")

    # ---- canned failures, in Anthropic's own words

    def fail_auth(self) -> None:
        self.script(Reply(status=401, error_type="authentication_error", error_message="invalid x-api-key"))

    def rate_limit(self, retry_after: float | None = None) -> None:
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        message = "Number of request tokens has exceeded your per-minute rate limit"
        self.script(Reply(status=429, error_type="rate_limit_error", error_message=message, headers=headers))

    def overloaded(self) -> None:
        self.script(Reply(status=529, error_type="overloaded_error", error_message="Overloaded"))

    def server_error(self) -> None:
        self.script(Reply(status=500, error_type="api_error", error_message="Internal server error"))

    def context_overflow(self) -> None:
        message = "prompt is too long: 210000 tokens > 200000 maximum"
        self.script(Reply(status=400, error_type="invalid_request_error", error_message=message))

    def malformed(self) -> None:
        start = {"type": "message_start", "message": {"id": "msg_fake", "usage": {"input_tokens": 1}}}
        self.script(
            Reply(
                raw=sse(start, "message_start") + 'event: content_block_delta\ndata: {"type": "content_bl\n\n'
            )
        )

"""A protocol-faithful fake OpenAI Chat Completions server on loopback, scriptable per test.

Speaks ``POST /v1/chat/completions`` (streamed SSE ``chat.completion.chunk`` events ending with
``data: [DONE]``, or one JSON ``chat.completion``) and ``GET /v1/models``, checks the bearer
key when ``api_keys`` is set, and answers errors with OpenAI's JSON error shape. Each request
takes the next scripted :class:`Reply` (default: echo the last user message). The scripting
base class :class:`ScriptedFake` is shared with :mod:`moltbot.testing.fake_anthropic`; the
provider-test helpers that go with both fakes are in :mod:`moltbot.testing.providers`.

Usage in a trio test::

    fake = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(fake.run)
    fake.script(Reply(text="hello", usage=(12, 3)))
    ... base_url=fake.base_url ...
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from moltbot.testing.loopback import serve_app


@dataclass(frozen=True)
class ToolCallScript:
    """A tool call the fake model makes; ``arguments`` (JSON text) is streamed in
    ``fragments`` pieces, so clients must reassemble it."""

    id: str
    name: str
    arguments: str
    fragments: int = 3


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``status`` other than 200 answers with an error body built from
    ``error_type`` and ``error_message`` in the fake's wire shape."""

    text: str = ""
    chunks: Sequence[str] | None = None
    """The text deltas to send; default: ``text`` split after each word."""
    tool_calls: Sequence[ToolCallScript] = ()
    usage: tuple[int, int] = (10, 5)
    """``(input tokens, output tokens)``."""
    stop: str | None = None
    """The wire stop/finish reason; default: tool calls or a normal end."""
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (for client timeouts)."""
    chunk_delay: float = 0.0
    raw: str | None = None
    """Send this body verbatim as an event stream (for malformed streams)."""
    stream_error: tuple[str, str] | None = None
    """``(error type, message)`` sent as an error event after the text, mid-stream."""
    drop: bool = False
    """Stream the text (or ``raw``), then drop the connection without ending the response."""


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


def split_text(reply: Reply) -> list[str]:
    if reply.chunks is not None:
        return list(reply.chunks)
    return re.findall(r"\S+\s*|\s+", reply.text)


def fragments(text: str, count: int) -> list[str]:
    """``text`` cut into ``count`` nearly equal pieces (some may be empty for short text)."""
    count = max(1, count)
    size = -(-len(text) // count) if text else 0
    return [text[i * size : (i + 1) * size] for i in range(count)] if size else [""]


def sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


class ScriptedFake:
    """Scripted replies, recorded requests and the hypercorn server loop; subclasses add routes."""

    def __init__(
        self, *, api_keys: set[str] | None = None, model_ids: Sequence[str] = ("fake-model",)
    ) -> None:
        self.api_keys = api_keys
        """Accepted keys; None accepts any request, with or without a key."""
        self.model_ids = list(model_ids)
        self.replies: list[Reply] = []
        self.requests: list[RecordedRequest] = []
        self.base_url = ""

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def next_reply(self, body: Any) -> Reply:
        if self.replies:
            return self.replies.pop(0)
        return Reply(text=f"echo: {self.last_user_text(body)}")

    def last_user_text(self, body: Any) -> str:
        raise NotImplementedError

    def routes(self) -> list[Route]:
        raise NotImplementedError

    async def record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body))
        return body

    async def run(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve on a free loopback port; ``task_status.started`` reports the base URL."""
        app = Starlette(routes=self.routes())
        async with trio.open_nursery() as nursery:
            self.base_url = await nursery.start(serve_app, app) + "/v1"
            task_status.started(self.base_url)

    def stream_response(self, reply: Reply, events: AsyncIterator[str]) -> StreamingResponse:
        headers = {"cache-control": "no-cache", **reply.headers}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def paced(self, reply: Reply, parts: Sequence[str]) -> AsyncIterator[str]:
        for part in parts:
            if reply.chunk_delay:
                await trio.sleep(reply.chunk_delay)
            yield part
        if reply.drop:
            # An app that fails mid-body makes hypercorn close the connection without the
            # final chunk, as a peer that dies mid-stream does.
            raise ConnectionAbortedError("the fake dropped the connection mid-stream")


_ERROR_TYPES = {
    "invalid_api_key": "invalid_request_error",
    "context_length_exceeded": "invalid_request_error",
    "rate_limit_exceeded": "requests",
}
"""OpenAI's error ``type`` for an error ``code`` (both appear in its error bodies)."""


class FakeOpenAI(ScriptedFake):
    """The OpenAI Chat Completions wire protocol (also what Ollama, vLLM and llama.cpp serve)."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/chat/completions", self.completions, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
        ]

    def last_user_text(self, body: Any) -> str:
        for message in reversed(body.get("messages", []) if isinstance(body, dict) else []):
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                return str(message["content"])
        return ""

    def error(
        self, status: int, etype: str, message: str, code: str | None = None, **headers: str
    ) -> Response:
        body = {"error": {"message": message, "type": etype, "param": None, "code": code}}
        return JSONResponse(body, status_code=status, headers=headers)

    def unauthorized(self, request: Request) -> Response | None:
        if self.api_keys is None:
            return None
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in self.api_keys:
            return None
        return self.error(401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key")

    async def models(self, request: Request) -> Response:
        await self.record(request)
        if denied := self.unauthorized(request):
            return denied
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"} for m in self.model_ids
        ]
        return JSONResponse({"object": "list", "data": data})

    async def completions(self, request: Request) -> Response:
        body = await self.record(request)
        if denied := self.unauthorized(request):
            return denied
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
            return self.error(400, "invalid_request_error", "'messages' and 'model' are required.")
        reply = self.next_reply(body)
        if reply.delay:
            await trio.sleep(reply.delay)
        if reply.status != 200:
            code = reply.error_type or "server_error"
            etype = _ERROR_TYPES.get(code, code)
            return self.error(reply.status, etype, reply.error_message or "error", code, **reply.headers)
        if reply.raw is not None:
            return self.stream_response(reply, self.paced(reply, [reply.raw]))
        if not body.get("stream"):
            return JSONResponse(self.completion(body, reply), headers=reply.headers)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return self.stream_response(reply, self.paced(reply, self.chunks(body, reply, include_usage)))

    def stop_reason(self, reply: Reply) -> str:
        return reply.stop or ("tool_calls" if reply.tool_calls else "stop")

    def usage(self, reply: Reply) -> dict[str, Any]:
        prompt, completion = reply.usage
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0},
        }

    def completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.tool_calls
            ]
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": self.stop_reason(reply)}
            ],
            "usage": self.usage(reply),
        }

    def chunks(self, body: dict[str, Any], reply: Reply, include_usage: bool) -> list[str]:
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            extra = {"usage": None} if include_usage else {}
            return sse({**base, "choices": [choice], **extra})

        out = [chunk({"role": "assistant", "content": "", "refusal": None})]
        out += [chunk({"content": piece}) for piece in split_text(reply)]
        if reply.drop:
            return out
        if reply.stream_error:
            etype, message = reply.stream_error
            out.append(sse({"error": {"message": message, "type": etype, "param": None, "code": etype}}))
            return out
        for index, call in enumerate(reply.tool_calls):
            head = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            out.append(chunk({"tool_calls": [head]}))
            for piece in fragments(call.arguments, call.fragments):
                out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        out.append(chunk({}, self.stop_reason(reply)))
        if include_usage:
            out.append(sse({**base, "choices": [], "usage": self.usage(reply)}))
        out.append("data: [DONE]\n\n")
        return out

    # ---- canned failures, in OpenAI's own words

    def fail_auth(self) -> None:
        self.script(
            Reply(status=401, error_type="invalid_api_key", error_message="Incorrect API key provided.")
        )

    def rate_limit(self, retry_after: float | None = None) -> None:
        headers = {} if retry_after is None else {"retry-after": str(retry_after)}
        message = "Rate limit reached for requests"
        self.script(
            Reply(status=429, error_type="rate_limit_exceeded", error_message=message, headers=headers)
        )

    def overloaded(self) -> None:
        message = "The engine is currently overloaded, please try again later."
        self.script(Reply(status=503, error_type="server_error", error_message=message))

    def server_error(self) -> None:
        message = "The server had an error while processing your request. Sorry about that!"
        self.script(Reply(status=500, error_type="server_error", error_message=message))

    def context_overflow(self) -> None:
        message = (
            "This model's maximum context length is 128000 tokens."
            " However, your messages resulted in 130000 tokens."
        )
        self.script(Reply(status=400, error_type="context_length_exceeded", error_message=message))

    def malformed(self) -> None:
        self.script(Reply(raw='data: {"id": "chatcmpl-fake", "choices": [{"delta": {"content": "hal\n\n'))

"""A raw HTTP/1.1 receiver on loopback for testing plugins that POST somewhere (log and alert
sinks, webhooks). No HTTP library on the server side; it can be told to fail with 500, throttle
with 429 (and a ``Retry-After``) or stall before it recovers. The ``http_receiver`` fixture in
:mod:`moltbot.testing.fixtures` starts one."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import trio

REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 429: "Too Many Requests", 500: "Server Error"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    stall: trio.Event | None = None

    @property
    def url(self) -> str:
        """Where to POST; any path is accepted and recorded."""
        return f"http://127.0.0.1:{self.port}/ingest"

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        self.script.extend([(status, headers)] * times)

    def accepted(self) -> list[Request]:
        return [r for r in self.requests if r.status < 300]

    async def handle(self, stream: trio.SocketStream) -> None:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = await stream.receive_some(65536)
            if not chunk:
                return
            buffer += chunk
        head, body = buffer.split(b"\r\n\r\n", 1)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            body += await stream.receive_some(65536)
        if self.stall is not None:
            await self.stall.wait()
        status, extra = self.script.popleft() if self.script else (200, {})
        self.requests.append(Request(method, path, headers, body, status))
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
            "Content-Length: 0",
            "Connection: close",
        ]
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        await stream.aclose()


@asynccontextmanager
async def serve_http_receiver() -> AsyncIterator[HttpReceiver]:
    """Run an :class:`HttpReceiver` on a free loopback port for the duration of the block."""
    receiver = HttpReceiver()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, host="127.0.0.1"), receiver.handle, 0)
        receiver.port = listeners[0].socket.getsockname()[1]
        yield receiver
        nursery.cancel_scope.cancel()

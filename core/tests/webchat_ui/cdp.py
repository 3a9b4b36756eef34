"""A small Chrome DevTools Protocol driver for the WebChat tests: one headless Chromium process
(killed with its whole process group on exit), one page, ``evaluate`` and ``wait_for``."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

CHROMIUM = os.environ.get("MOLTBOT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)\r?\n")


class BrowserError(Exception):
    """A DevTools command failed, or the page threw while evaluating an expression."""


class Page:
    """One tab, reached through a flattened target session on the browser's DevTools socket."""

    def __init__(self, ws: WebSocketConnection, nursery: trio.Nursery) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, trio.MemorySendChannel[dict[str, Any]]] = {}
        self.session: str | None = None
        self.problems: list[str] = []
        """Uncaught exceptions, console errors and CSP violations reported by the page."""
        nursery.start_soon(self._read)

    async def _read(self) -> None:
        async for raw in _messages(self._ws):
            message = json.loads(raw)
            if "id" in message:
                channel = self._waiting.pop(message["id"], None)
                if channel is not None:
                    channel.send_nowait(message)
            else:
                self._event(message["method"], message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.problems.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.problems.append(params["entry"]["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            self.problems.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))

    async def send(self, method: str, params: dict[str, Any] | None = None, *, browser: bool = False) -> Any:
        rid = next(self._ids)
        frame: dict[str, Any] = {"id": rid, "method": method, "params": params or {}}
        if not browser:
            frame["sessionId"] = self.session
        send, receive = trio.open_memory_channel[dict[str, Any]](1)
        self._waiting[rid] = send
        await self._ws.send_message(json.dumps(frame))
        answer = await receive.receive()
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        """The value of a JS expression (promises awaited), or :class:`BrowserError`."""
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 5.0, interval: float = 0.02) -> Any:
        """Poll ``expression`` until it is truthy and return its value; ``TooSlowError`` after
        ``timeout`` seconds (with the last value in the message)."""
        value: Any = None
        try:
            with trio.fail_after(timeout):
                while not (value := await self.evaluate(expression)):
                    await trio.sleep(interval)
        except trio.TooSlowError:
            raise trio.TooSlowError(f"{expression!r} still {value!r} after {timeout} s") from None
        return value

    async def goto(self, url: str) -> None:
        """Navigate and wait until the new document (and its deferred script) has loaded; a URL
        differing from the current one only in its fragment is no new document (use about:blank)."""
        await self.evaluate("window.__previousDocument = true")
        await self.send("Page.navigate", {"url": url})
        await self.wait_for("!window.__previousDocument && document.readyState === 'complete'")

    async def reload(self) -> None:
        await self.evaluate("window.__previousDocument = true")
        await self.send("Page.reload")
        await self.wait_for("!window.__previousDocument && document.readyState === 'complete'")

    async def click(self, selector: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    async def fill(self, selector: str, value: str) -> None:
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")


async def _messages(ws: WebSocketConnection) -> AsyncIterator[str]:
    while True:
        try:
            message = await ws.get_message()
        except ConnectionClosed:
            return
        yield str(message)


@asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium with a fresh profile in ``profile``; yields its first page."""
    args = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-component-update",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
    proc = await trio.lowlevel.open_process(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        async with trio.open_nursery() as nursery:
            assert proc.stderr is not None
            url = await _devtools_url(proc.stderr)
            nursery.start_soon(_drain, proc.stderr)  # a full stderr pipe would stall the browser
            async with open_websocket_url(url, max_message_size=16 * 1024 * 1024) as ws:
                page = Page(ws, nursery)
                targets = await page.send("Target.getTargets", browser=True)
                target = next(t for t in targets["targetInfos"] if t["type"] == "page")
                attached = await page.send(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, browser=True
                )
                page.session = attached["sessionId"]
                for domain in ("Page", "Runtime", "Log"):
                    await page.send(f"{domain}.enable")
                yield page
                nursery.cancel_scope.cancel()
    finally:
        _kill_group(proc.pid)
        with trio.move_on_after(5):
            await proc.wait()


async def _devtools_url(stderr: trio.abc.ReceiveStream) -> str:
    seen = b""
    with trio.fail_after(15):
        while (match := _LISTENING.search(seen)) is None:
            chunk = await stderr.receive_some()
            if not chunk:
                raise BrowserError(
                    f"chromium exited before DevTools listened: {seen.decode(errors='replace')}"
                )
            seen += chunk
    return match.group(1).decode()


async def _drain(stderr: trio.abc.ReceiveStream) -> None:
    while await stderr.receive_some():
        pass


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)

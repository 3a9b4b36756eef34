"""The agent's gateway methods and HTTP API through a real in-process gateway (run_gateway)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import trio

from moltbot.gateway.client import ConnectOptions, GatewayClient, connect
from moltbot.gateway.server import Gateway
from moltbot.runtime import run_gateway
from moltbot.testing.fake_openai import Reply

from .conftest import model_config

TOKEN = "agent-test-token-0123456789abcdefghijklmnop"


def gateway_config(fake: Any, **extra: Any) -> dict[str, Any]:
    return {
        **model_config(fake),
        "gateway": {"auth": {"mode": "token", "token": TOKEN}, **extra},
        "monitoring": {"enabled": False},
    }


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[Gateway]:
    async with trio.open_nursery() as nursery:
        stop = trio.Event()
        gateway: Gateway = await nursery.start(
            lambda task_status: run_gateway(app, stop, port=0, task_status=task_status)
        )
        if getattr(gateway.asgi.http.state, "moltbot", None) is None:
            gateway.asgi.http.state.moltbot = app
        yield gateway
        stop.set()


def client(gateway: Gateway) -> Any:
    return connect(gateway.urls[0], ConnectOptions(token=TOKEN))


async def wait_final(c: GatewayClient, run_id: str) -> dict[str, Any]:
    while True:
        frame = await c.wait_event("chat")
        if frame["payload"]["runId"] == run_id and frame["payload"]["state"] in ("final", "error", "aborted"):
            return frame["payload"]


async def test_agent_and_wait_over_the_gateway(make_app, fake) -> None:
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="pong", usage=(10, 3)))
    async with serving(app) as gateway, client(gateway) as c:
        accepted = await c.call(
            "agent", {"message": "Say hi", "sessionKey": "capture", "idempotencyKey": "k-1"}
        )
        assert accepted["status"] == "accepted" and accepted["sessionKey"] == "agent:main:capture"
        again = await c.call("agent", {"message": "Say hi", "sessionKey": "capture", "idempotencyKey": "k-1"})
        assert again["runId"] == accepted["runId"]
        result = await c.call("agent.wait", {"runId": accepted["runId"], "timeoutMs": 10000})
        assert result["status"] == "ok" and result["text"] == "pong"
        assert result["usage"]["total"] == 13
        history = await c.call("chat.history", {"sessionKey": "capture"})
        assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
        assert history["messages"][1]["content"] == [{"type": "text", "text": "pong"}]
        listed = await c.call("sessions.list", {})
        assert [s["key"] for s in listed["sessions"]] == ["agent:main:capture"]
        assert listed["sessions"][0]["totalTokens"] == 13
        preview = await c.call("sessions.preview", {"keys": ["capture", "nobody"]})
        assert preview["previews"][0]["items"][-1] == {"role": "assistant", "text": "pong"}
        assert preview["previews"][1]["status"] == "missing"
        models = await c.call("models.list", {})
        assert models["models"][0]["id"] == "fake-model" and models["models"][0]["tags"] == ["default"]
        usage = await c.call("usage.status", {})
        assert usage["providers"][0]["provider"] == "openai" and usage["providers"][0]["input_tokens"] == 10
        missing = await c.request("agent.wait", {"runId": "nope"})
        assert missing["error"]["code"] == "NOT_FOUND"
        status = await c.call("status", {})
        assert status["services"]["agent"]["model"] == "openai/fake-model"
    assert app.metrics.counter("agents.tokens", direction="input") == 10


async def test_agent_answers_twice_on_the_same_id_as_openclaw_does(make_app, fake) -> None:
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="pong", usage=(10, 3)))
    async with serving(app) as gateway, client(gateway) as c:
        first = await c.request("agent", {"message": "Say hi", "sessionKey": "two", "idempotencyKey": "k-2"})
        assert first["ok"] and first["payload"]["status"] == "accepted"
        with trio.fail_after(10):
            final = await c.wait_late_response(first["id"])
        assert final["ok"] and final["payload"]["runId"] == first["payload"]["runId"]
        assert final["payload"]["status"] == "ok" and final["payload"]["summary"] == "completed"
        assert final["payload"]["result"]["payloads"] == [{"text": "pong", "mediaUrl": None}]
        assert final["payload"]["result"]["meta"]["agentMeta"]["usage"]["total"] == 13


async def test_chat_send_streams_chat_events(make_app, fake) -> None:
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="hello world"))
    async with serving(app) as gateway, client(gateway) as c:
        sent = await c.call("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "x"})
        assert sent == {"runId": "x", "status": "started"}  # the run id is the idempotency key
        final = await wait_final(c, sent["runId"])
        assert final["message"]["content"][0]["text"] == "hello world"
        assert final["sessionKey"] == "agent:main:main"
        agent_events = [f["payload"] for f in c.events if f["event"] == "agent"]
        assert agent_events[0]["data"]["phase"] == "start"
        bad = await c.request(
            "chat.send", {"sessionKey": "agent:main:../x", "message": "hi", "idempotencyKey": "y"}
        )
        assert bad["error"]["code"] == "INVALID_REQUEST"
        no_key = await c.request("chat.send", {"sessionKey": "main", "message": "hi"})
        assert no_key["error"]["code"] == "INVALID_REQUEST"


async def test_webchat_is_a_channel_with_its_own_access_policy(make_app, fake) -> None:
    app = make_app({**gateway_config(fake), "channels": {"webchat": {"dmPolicy": "pairing"}}})
    fake.script(Reply(text="paired reply"))
    async with serving(app) as gateway, client(gateway) as c:
        status = await c.call("channels.status")
        assert status["channels"]["webchat"]["state"] == "running"
        sent = await c.call("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "p1"})
        pairing = await wait_final(c, "pair:webchat:p1")  # an unknown sender gets a code, not the agent
        text = pairing["message"]["content"][0]["text"]
        assert sent["runId"] == "p1" and "Pairing code: " in text and fake.requests == []
        code = text.split("Pairing code: ")[1][:8]
        approved = await c.call("pairing.approve", {"channel": "webchat", "code": code})
        assert approved["approved"]["sender"] == "cli"  # the client id (no device identity)
        again = await c.call("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "p2"})
        final = await wait_final(c, again["runId"])
        assert final["message"]["content"][0]["text"] == "paired reply"
        delivered = await c.call(
            "send", {"channel": "webchat", "to": "agent:main:main", "message": "note", "idempotencyKey": "n"}
        )
        note = await wait_final(c, delivered["messageIds"][0])
        assert note["sessionKey"] == "agent:main:main" and note["message"]["content"][0]["text"] == "note"


async def test_abort_patch_reset_compact_over_the_gateway(make_app, fake) -> None:
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="slow", delay=4))
    async with serving(app) as gateway, client(gateway) as c:
        sent = await c.call("chat.send", {"sessionKey": "main", "message": "hi", "idempotencyKey": "a"})
        with trio.fail_after(5):
            while not fake.requests:
                await trio.sleep(0.005)
        aborted = await c.call("chat.abort", {"sessionKey": "main"})
        assert aborted["runIds"] == [sent["runId"]]
        assert (await wait_final(c, sent["runId"]))["state"] == "aborted"
        patched = await c.call("sessions.patch", {"key": "main", "queueMode": "collect", "label": "home"})
        assert patched["entry"] == {"queueMode": "collect", "label": "home"}
        cleared = await c.call("sessions.patch", {"key": "main", "label": None})
        assert cleared["entry"] == {"queueMode": "collect"}
        bad = await c.request("sessions.patch", {"key": "main", "model": "nope/x"})
        assert bad["error"]["code"] == "INVALID_REQUEST"
        compacted = await c.call("sessions.compact", {"key": "main", "idempotencyKey": "c"})
        assert compacted == {"ok": True, "key": "agent:main:main", "compacted": False}
        before = (await c.call("chat.history", {"sessionKey": "main"}))["sessionId"]
        reset = await c.call("sessions.reset", {"key": "main", "idempotencyKey": "r"})
        assert reset["entry"]["sessionId"] != before


async def test_openai_compatible_http_api(make_app, fake) -> None:
    config = gateway_config(fake, http={"endpoints": {"chatCompletions": {"enabled": True}}})
    app = make_app(config)
    fake.script(Reply(text="Hi from the agent", usage=(5, 4)), Reply(text="streamed reply"))
    async with serving(app) as gateway:
        base = gateway.urls[0].replace("ws", "http", 1)
        auth = {"authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            assert (await http.get("/v1/models")).status_code == 401
            models = (await http.get("/v1/models", headers=auth)).json()
            assert [m["id"] for m in models["data"]] == ["moltbot", "moltbot:main"]
            body = {"model": "moltbot", "user": "alice", "messages": [{"role": "user", "content": "hello"}]}
            answer = (await http.post("/v1/chat/completions", json=body, headers=auth)).json()
            assert answer["choices"][0]["message"]["content"] == "Hi from the agent"
            assert answer["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
            chunks = []
            async with http.stream(
                "POST", "/v1/chat/completions", json={**body, "stream": True}, headers=auth
            ) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        chunks.append(json.loads(line[6:]))
            text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
            assert text == "streamed reply" and chunks[-1]["choices"][0]["finish_reason"] == "stop"
            unknown = await http.post("/v1/chat/completions", json={**body, "model": "gpt-4"}, headers=auth)
            assert unknown.status_code == 404
    assert fake.requests[1].body["messages"][-3]["content"] == "hello"
    sessions = app.services["sessions"].stores["main"].list()
    assert [m.key for m in sessions] == ["agent:main:openai:dm:alice"]


async def test_http_api_is_off_by_default(make_app, fake) -> None:
    app = make_app(gateway_config(fake))
    async with serving(app) as gateway:
        base = gateway.urls[0].replace("ws", "http", 1)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            response = await http.get("/v1/models", headers={"authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 404

"""``sessions.delete`` through the gateway: the key leaves every listing, its transcripts are
kept aside as ``*.jsonl.deleted``, a running turn is aborted first, the main session is refused."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import trio

from moltbot.interfaces.rpc import RpcError
from moltbot.testing.fake_openai import FakeOpenAI, Reply

from .conftest import DEADLINE, client, final_reply, send, serving

ADMIN = ("operator.read", "operator.write", "operator.admin")


def delete_params(key: str) -> dict[str, str]:
    return {"key": key, "idempotencyKey": secrets.token_hex(8)}


def transcripts(moltbot_home: Path, pattern: str) -> list[Path]:
    return sorted((moltbot_home / "agents" / "main" / "sessions").glob(pattern))


async def test_delete_forgets_the_key_and_keeps_its_transcript_aside(make_app, fake, moltbot_home):
    fake.script(Reply(text="first"), Reply(text="again"))
    with trio.fail_after(DEADLINE):
        async with serving(make_app()) as gateway, client(gateway, *ADMIN) as c:
            sent = await send(c, "hello", session="work")
            assert (await final_reply(c, sent["runId"]))["state"] == "final"
            patch = {"key": "work", "label": "scratch", "idempotencyKey": "p"}
            await c.call("sessions.patch", patch)
            [before] = (await c.call("sessions.list"))["sessions"]
            assert before["key"] == "agent:main:work" and before["label"] == "scratch"

            deleted = await c.call("sessions.delete", delete_params("work"))
            assert deleted == {"ok": True, "key": "agent:main:work", "deleted": True, "abortedRuns": []}
            assert (await c.call("sessions.list"))["sessions"] == []
            assert transcripts(moltbot_home, "*.jsonl") == []
            assert len(transcripts(moltbot_home, "*.jsonl.deleted")) == 1
            again = await c.call("sessions.delete", delete_params("work"))
            assert again["deleted"] is False

            sent = await send(c, "back", session="work")  # the key starts over, label cleared
            assert (await final_reply(c, sent["runId"]))["message"]["content"][0]["text"] == "again"
            [row] = (await c.call("sessions.list"))["sessions"]
            assert row["label"] is None and row["sessionId"] != before["sessionId"]
            history = await c.call("chat.history", {"sessionKey": "work"})
            assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


async def test_delete_aborts_a_running_turn_first(make_app, fake: FakeOpenAI, moltbot_home):
    fake.script(Reply(text="too late", delay=20))
    with trio.fail_after(DEADLINE):
        async with serving(make_app()) as gateway, client(gateway, *ADMIN) as c:
            sent = await send(c, "take your time", session="slow")
            while not fake.requests:  # the turn is waiting on the model
                await trio.sleep(0.01)
            deleted = await c.call("sessions.delete", delete_params("slow"))
            assert deleted["deleted"] is True and deleted["abortedRuns"] == [sent["runId"]]
            assert (await final_reply(c, sent["runId"]))["state"] == "aborted"
            assert (await c.call("sessions.list"))["sessions"] == []
    assert transcripts(moltbot_home, "*.jsonl") == []


async def test_main_session_and_missing_scope_are_refused(make_app, fake):
    with trio.fail_after(DEADLINE):
        async with serving(make_app()) as gateway:
            async with client(gateway, *ADMIN) as admin:
                with pytest.raises(RpcError) as refused:
                    await admin.call("sessions.delete", delete_params("main"))
                assert refused.value.code == "INVALID_REQUEST" and "sessions.reset" in str(refused.value)
            async with client(gateway, "operator.read", "operator.write") as writer:
                with pytest.raises(RpcError) as forbidden:
                    await writer.call("sessions.delete", delete_params("work"))
                assert forbidden.value.code == "FORBIDDEN"

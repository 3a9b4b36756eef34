"""WebChat is a channel like any other: it passes the channel conformance suite, and its
messages go through the router's access policy."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.channels.webchat import WebChatChannel, WebChatConfig, WebChatUnavailable
from moltbot.config import Settings
from moltbot.interfaces.channel import InboundMessage, OutboundMessage
from moltbot.specs import BuildContext
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance

SESSION = "agent:main:webchat-test"


def webchat(tmp_path: Path, events: list[tuple[str, dict[str, Any]]]) -> WebChatChannel:
    ctx = BuildContext(
        name="webchat",
        state_dir=tmp_path / "webchat",
        settings=Settings(),
        emit=lambda event, payload: events.append((event, payload)),
    )
    return WebChatChannel(WebChatConfig(), ctx)


class TestWebChatConformance(ChatChannelConformance):
    @pytest.fixture
    async def harness(self, tmp_path: Path) -> ChannelHarness:
        events: list[tuple[str, dict[str, Any]]] = []
        channel = webchat(tmp_path, events)

        async def inject(text: str, sender: str) -> None:
            await channel.post(text=text, session_key=SESSION, sender=sender, run_id=str(uuid.uuid4()))

        async def delivered() -> list[str]:
            return [p["message"]["content"][0]["text"] for e, p in events if e == "chat"]

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target=SESSION)


def test_defaults_let_authenticated_operators_in() -> None:
    config = WebChatConfig()
    assert config.dm_policy == "open" and config.allow_from == ["*"]


async def test_posted_message_names_its_session_and_run(tmp_path: Path) -> None:
    channel = webchat(tmp_path, [])
    send, recv = trio.open_memory_channel[InboundMessage](1)
    with pytest.raises(WebChatUnavailable):
        await channel.post(text="early", session_key=SESSION, sender="cli", run_id="r0")
    async with trio.open_nursery() as nursery:
        await nursery.start(channel.run, send)
        await channel.post(text="hi", session_key=SESSION, sender="device-1", run_id="run-42")
        message = recv.receive_nowait()
        nursery.cancel_scope.cancel()
    assert (message.session_key, message.run_id, message.message_id) == (SESSION, "run-42", "run-42")
    assert message.chat_id == SESSION and message.sender == "device-1"


async def test_send_is_a_final_chat_event_in_openclaw_shape(tmp_path: Path) -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    channel = webchat(tmp_path, events)
    sent = await channel.send(
        OutboundMessage(channel="webchat", target="agent:ops:main", text="hello", idempotency_key="k1")
    )
    event, payload = events[0]
    assert sent == "k1" and event == "chat"
    assert payload["runId"] == "k1" and payload["agentId"] == "ops" and payload["state"] == "final"
    assert payload["message"]["role"] == "assistant"
    assert payload["message"]["content"] == [{"type": "text", "text": "hello"}]
    with pytest.raises(ValueError, match="text"):
        await channel.send(OutboundMessage(channel="webchat", target=SESSION))

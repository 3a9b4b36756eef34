"""Conformance suite for channels."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import trio

from moltbot.interfaces import (
    ChatChannel,
    InboundMessage,
    OutboundMessage,
)
from moltbot.testing.conformance._common import DEADLINE, wait_until


@dataclass
class ChannelHarness:
    channel: ChatChannel
    inject: Callable[[str, str], Awaitable[None]]
    """``inject(text, sender)`` makes the remote side deliver an inbound message."""
    delivered: Callable[[], Awaitable[list[str]]]
    """The texts the remote side has received from the channel so far."""
    target: str = "user-1"
    """A chat id the channel may send to."""


class ChatChannelConformance:
    """Provide an async ``harness`` fixture returning a :class:`ChannelHarness`."""

    @pytest.fixture
    async def harness(self) -> ChannelHarness:
        raise NotImplementedError("subclasses provide the harness fixture")

    async def test_capabilities_are_declared(self, harness: ChannelHarness) -> None:
        caps = harness.channel.capabilities
        assert caps.text_limit > 0

    async def test_run_reports_started_and_cancels_cleanly(self, harness: ChannelHarness) -> None:
        send, _recv = trio.open_memory_channel[InboundMessage](10)
        with trio.fail_after(DEADLINE):
            async with trio.open_nursery() as nursery:
                await nursery.start(harness.channel.run, send)
                nursery.cancel_scope.cancel()

    async def test_inbound_messages_are_normalized(self, harness: ChannelHarness) -> None:
        send, recv = trio.open_memory_channel[InboundMessage](10)
        async with trio.open_nursery() as nursery:
            await nursery.start(harness.channel.run, send)
            await harness.inject("hello conformance", harness.target)
            with trio.fail_after(DEADLINE):
                message = await recv.receive()
            nursery.cancel_scope.cancel()
        assert message.text == "hello conformance"
        assert message.channel and message.message_id and message.chat_id and message.sender
        assert message.timestamp.tzinfo is not None

    async def test_send_delivers_and_returns_an_id(self, harness: ChannelHarness) -> None:
        send, _recv = trio.open_memory_channel[InboundMessage](10)
        async with trio.open_nursery() as nursery:
            await nursery.start(harness.channel.run, send)
            message_id = await harness.channel.send(
                OutboundMessage(
                    channel="conformance",
                    target=harness.target,
                    text="reply from conformance",
                    idempotency_key="conformance-1",
                )
            )

            async def arrived() -> bool:
                return "reply from conformance" in await harness.delivered()

            await wait_until(arrived, "the sent text to reach the remote side")
            nursery.cancel_scope.cancel()
        assert isinstance(message_id, str) and message_id

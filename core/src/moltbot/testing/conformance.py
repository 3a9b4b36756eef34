"""Contract tests every plugin of a kind must pass. Subclass one and provide its fixture.

Example, in a channel plugin's tests::

    class TestEchoConformance(ChatChannelConformance):
        @pytest.fixture
        async def harness(self, tmp_path):
            channel = EchoChannel(EchoConfig(), build_context(tmp_path, "echo"))
            return ChannelHarness(channel=channel, inject=channel.inject,
                                  delivered=lambda: [m.text for m in channel.outbox])

The tests use real time with generous deadlines because plugins talk to real (fake) servers
over loopback; a passing run never waits for a deadline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import trio
from pydantic import ValidationError

from moltbot.interfaces import (
    Alert,
    AlertSink,
    CacheBackend,
    ChatChannel,
    Done,
    InboundMessage,
    LogRecord,
    LogSink,
    ModelProvider,
    ModelRequest,
    OutboundMessage,
    ProviderError,
    TextDelta,
    Tool,
    ToolContext,
    ToolResult,
)
from moltbot.interfaces.provider import ChatMessage, StreamEvent, ToolCallEvent, ToolSchema, Usage

DEADLINE = 10.0


async def wait_until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``predicate`` until it holds, failing the test after :data:`DEADLINE` seconds."""
    with trio.move_on_after(DEADLINE):
        while not await predicate():
            await trio.sleep(0.01)
        return
    pytest.fail(f"timed out waiting for {what}")


# ---------------------------------------------------------------- channels


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


# ---------------------------------------------------------------- tools


class ToolConformance:
    """Provide fixtures ``tool``, ``tool_context``, ``valid_params`` and ``invalid_params``.

    ``valid_params`` must succeed in ``tool_context`` (an error result fails the test);
    ``invalid_params`` must fail validation. Calls go through :func:`moltbot.tools.invoke_tool`,
    as the agent loop makes them.
    """

    async def test_describes_itself(self, tool: Tool) -> None:
        from moltbot.tools import tool_schema

        assert re.fullmatch(r"[a-z][a-z0-9_]*", tool.name)
        assert tool.description.strip()
        schema = tool_schema(tool).parameters
        assert schema.get("type") == "object"
        json.dumps(schema)  # it goes to the model as JSON
        assert tool.group is None or tool.group.startswith("group:")

    async def test_runs_with_valid_params(
        self, tool: Tool, tool_context: ToolContext, valid_params: dict[str, Any]
    ) -> None:
        from moltbot.tools import invoke_tool

        result = await invoke_tool(tool, tool_context, valid_params)
        assert isinstance(result, ToolResult)
        assert not result.is_error, result.text
        again = await invoke_tool(tool, tool_context, json.dumps(valid_params))  # JSON text works too
        assert isinstance(again, ToolResult)

    async def test_rejects_invalid_params(
        self, tool: Tool, tool_context: ToolContext, invalid_params: dict[str, Any]
    ) -> None:
        from moltbot.tools import invoke_tool

        with pytest.raises(ValidationError):
            tool.parameters.model_validate(invalid_params)
        result = await invoke_tool(tool, tool_context, invalid_params)
        assert result.is_error and "invalid arguments" in result.text

    async def test_malformed_arguments_are_error_results(self, tool: Tool, tool_context: ToolContext) -> None:
        from moltbot.tools import invoke_tool

        for raw in ("{not json", "[1, 2]", '{"no_such_argument_anywhere": 1}'):
            result = await invoke_tool(tool, tool_context, raw)
            assert result.is_error, f"{raw!r} was accepted"


# ---------------------------------------------------------------- model providers


@dataclass
class ProviderHarness:
    provider: ModelProvider
    model: str
    reply_with: Callable[[str], None]
    """Make the (fake) server answer the next request with this text."""
    fail_auth: Callable[[], None]
    """Make the (fake) server reject the next request's credentials."""
    reply_with_tool_call: Callable[[str, str, str], None] | None = None
    """``(call id, tool name, JSON arguments)``: the next answer is that tool call, its
    arguments streamed in several fragments. None skips the tool-call tests."""
    rate_limit: Callable[[float], None] | None = None
    """The next answer is a rate limit asking to retry after this many seconds."""
    overloaded: Callable[[], None] | None = None
    """The next answer says the server is overloaded."""
    malformed: Callable[[], None] | None = None
    """The next answer is a stream that breaks off with a malformed event."""


def _hi(harness: ProviderHarness) -> ModelRequest:
    return ModelRequest(model=harness.model, messages=(ChatMessage(role="user", content="hi"),))


async def _collect(harness: ProviderHarness, request: ModelRequest | None = None) -> list[StreamEvent]:
    with trio.fail_after(DEADLINE):
        return [e async for e in harness.provider.stream(request or _hi(harness))]


async def _error_kind(harness: ProviderHarness) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await _collect(harness)
    return info.value


class ModelProviderConformance:
    """Provide an async ``provider_harness`` fixture returning a :class:`ProviderHarness`."""

    async def test_streams_text_and_ends_with_one_done(self, provider_harness: ProviderHarness) -> None:
        provider_harness.reply_with("conformance says hi")
        events = await _collect(provider_harness)
        assert isinstance(events[-1], Done)
        assert sum(isinstance(e, Done) for e in events) == 1
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "conformance says hi"
        assert events[-1].stop_reason == "end"

    async def test_usage_is_reported_once(self, provider_harness: ProviderHarness) -> None:
        provider_harness.reply_with("counted")
        usages = [e for e in await _collect(provider_harness) if isinstance(e, Usage)]
        assert len(usages) <= 1
        assert all(u.input_tokens >= 0 and u.output_tokens >= 0 for u in usages)

    async def test_auth_failure_is_classified(self, provider_harness: ProviderHarness) -> None:
        provider_harness.fail_auth()
        assert (await _error_kind(provider_harness)).kind == "auth"

    async def test_tool_call_arguments_are_reassembled(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.reply_with_tool_call is None:
            pytest.skip("the harness cannot script tool calls")
        arguments = '{"city": "Paris", "days": [1, 2, 3], "note": "naïve \\"quote\\""}'
        provider_harness.reply_with_tool_call("call_conf_1", "get_weather", arguments)
        weather = ToolSchema(
            name="get_weather",
            description="Weather for a city",
            parameters={"type": "object", "properties": {"city": {"type": "string"}}},
        )
        request = ModelRequest(
            model=provider_harness.model,
            messages=(ChatMessage(role="user", content="weather?"),),
            tools=(weather,),
        )
        events = await _collect(provider_harness, request)
        calls = [e.call for e in events if isinstance(e, ToolCallEvent)]
        assert [(c.id, c.name) for c in calls] == [("call_conf_1", "get_weather")]
        assert calls[0].arguments == json.loads(arguments)
        assert isinstance(events[-1], Done) and events[-1].stop_reason == "tool_calls"

    async def test_rate_limit_carries_retry_after(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.rate_limit is None:
            pytest.skip("the harness cannot script rate limits")
        provider_harness.rate_limit(7)
        error = await _error_kind(provider_harness)
        assert error.kind == "rate_limit"
        assert error.retry_after == pytest.approx(7)

    async def test_overload_is_classified(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.overloaded is None:
            pytest.skip("the harness cannot script overload")
        provider_harness.overloaded()
        assert (await _error_kind(provider_harness)).kind == "overloaded"

    async def test_malformed_stream_is_an_error_not_a_hang(self, provider_harness: ProviderHarness) -> None:
        if provider_harness.malformed is None:
            pytest.skip("the harness cannot script malformed streams")
        provider_harness.malformed()
        assert (await _error_kind(provider_harness)).kind == "unknown"


# ---------------------------------------------------------------- log sinks


def sample_record(message: str = "conformance record", **fields: Any) -> LogRecord:
    return LogRecord(
        time=datetime.now(UTC), level="INFO", message=message, name="moltbot.conformance", fields=fields
    )


@dataclass
class LogSinkHarness:
    sink: LogSink
    received: Callable[[], Awaitable[list[str]]]
    """Messages that reached the destination so far."""


class LogSinkConformance:
    """Provide an async ``sink_harness`` fixture returning a :class:`LogSinkHarness`."""

    async def test_emitted_records_reach_the_destination(self, sink_harness: LogSinkHarness) -> None:
        async with trio.open_nursery() as nursery:
            await nursery.start(sink_harness.sink.run)
            sink_harness.sink.emit(sample_record("first conformance record", session="s1"))

            async def arrived() -> bool:
                return any("first conformance record" in m for m in await sink_harness.received())

            await wait_until(arrived, "the record to reach the destination")
            nursery.cancel_scope.cancel()
        sink_harness.sink.close()

    async def test_statistics_are_counters(self, sink_harness: LogSinkHarness) -> None:
        sink_harness.sink.emit(sample_record())
        stats = sink_harness.sink.statistics()
        assert all(isinstance(v, int) for v in stats.values())
        sink_harness.sink.close()


# ---------------------------------------------------------------- alert sinks


@dataclass
class AlertSinkHarness:
    sink: AlertSink
    received: Callable[[], Awaitable[list[str]]]
    """Metric names of the alerts that reached the destination."""


class AlertSinkConformance:
    """Provide an async ``alert_harness`` fixture returning an :class:`AlertSinkHarness`."""

    async def test_alert_is_delivered(self, alert_harness: AlertSinkHarness) -> None:
        alert = Alert(
            level="critical",
            metric="system.cpuUsage",
            current_value=0.97,
            threshold=0.95,
            message="CPU usage is critically high",
            time=datetime.now(UTC),
        )
        await alert_harness.sink.send(alert)

        async def arrived() -> bool:
            return "system.cpuUsage" in await alert_harness.received()

        await wait_until(arrived, "the alert to arrive")
        await alert_harness.sink.aclose()


# ---------------------------------------------------------------- cache backends


@dataclass
class ExpiryHarness:
    """How a cache-backend conformance test makes time pass."""

    ttl: float
    """A TTL in seconds short enough to wait out in a test."""
    advance: Callable[[float], Awaitable[None]]
    """Let ``seconds`` pass for the backend: a real sleep for server-side expiry, or moving an
    injected clock forward."""


class CacheBackendConformance:
    """Provide an async ``backend`` fixture returning a fresh :class:`CacheBackend`.

    Expiry tests use the ``expiry`` fixture: by default a TTL of 0.2 s and real sleeps (right for
    servers with native expiry, like Redis); a backend with an injectable clock overrides it to
    move the clock instead.
    """

    @pytest.fixture
    def expiry(self) -> ExpiryHarness:
        return ExpiryHarness(ttl=0.2, advance=trio.sleep)

    async def test_set_get_delete(self, backend: CacheBackend) -> None:
        assert await backend.get("ns:a") is None
        await backend.set("ns:a", b"\x00value", None)
        assert await backend.get("ns:a") == b"\x00value"
        await backend.set("ns:a", b"newer", None)
        assert await backend.get("ns:a") == b"newer"
        await backend.delete("ns:a")
        assert await backend.get("ns:a") is None
        await backend.delete("ns:a")  # deleting a missing key is not an error

    async def test_clear_by_prefix(self, backend: CacheBackend) -> None:
        for key in ("one:a", "one:b", "two:a"):
            await backend.set(key, b"x", None)
        assert await backend.clear("one:") == 2
        assert await backend.get("one:a") is None
        assert await backend.get("two:a") == b"x"

    async def test_clear_prefix_is_literal_not_a_pattern(self, backend: CacheBackend) -> None:
        for key in ("a*:1", "a?:1", "a[b]:1", "ab:1", "a%:1", "a_:1"):
            await backend.set(key, b"x", None)
        assert await backend.clear("a*:") == 1
        assert await backend.clear("a[b]:") == 1
        assert await backend.clear("a%:") == 1
        assert await backend.get("ab:1") == b"x" and await backend.get("a?:1") == b"x"
        assert await backend.get("a_:1") == b"x"
        assert await backend.clear("") == 3

    async def test_entry_expires_after_its_ttl(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:short", b"soon gone", expiry.ttl)
        assert await backend.get("ttl:short") == b"soon gone"
        await expiry.advance(expiry.ttl * 1.5)

        async def gone() -> bool:
            return await backend.get("ttl:short") is None

        await wait_until(gone, "the entry to expire")

    async def test_ttls_are_per_entry(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:short", b"s", expiry.ttl)
        await backend.set("ttl:long", b"l", expiry.ttl * 50)
        await backend.set("ttl:none", b"n", None)
        await expiry.advance(expiry.ttl * 1.5)

        async def short_gone() -> bool:
            return await backend.get("ttl:short") is None

        await wait_until(short_gone, "the short entry to expire")
        assert await backend.get("ttl:long") == b"l"
        assert await backend.get("ttl:none") == b"n"

    async def test_overwrite_replaces_the_ttl(self, backend: CacheBackend, expiry: ExpiryHarness) -> None:
        await backend.set("ttl:k", b"old", expiry.ttl)
        await backend.set("ttl:k", b"new", None)
        await backend.set("ttl:j", b"old", None)
        await backend.set("ttl:j", b"new", expiry.ttl)
        await expiry.advance(expiry.ttl * 1.5)

        async def j_gone() -> bool:
            return await backend.get("ttl:j") is None

        await wait_until(j_gone, "the entry given a TTL on overwrite to expire")
        assert await backend.get("ttl:k") == b"new"

    async def test_binary_values_of_every_byte_and_size(self, backend: CacheBackend) -> None:
        every_byte = bytes(range(256)) * 4096  # 1 MiB
        await backend.set("bin:big", every_byte, None)
        await backend.set("bin:empty", b"", None)
        assert await backend.get("bin:big") == every_byte
        assert await backend.get("bin:empty") == b""

    async def test_concurrent_writers_all_land(self, backend: CacheBackend) -> None:
        async def write(i: int) -> None:
            await backend.set(f"many:{i}", str(i).encode(), None)

        async with trio.open_nursery() as nursery:
            for i in range(40):
                nursery.start_soon(write, i)
        for i in range(40):
            assert await backend.get(f"many:{i}") == str(i).encode()


# ---------------------------------------------------------------- transports


@dataclass
class TransportHarness:
    transport: Any
    """The :class:`moltbot.Transport` under test, configured to undo its exposure on exit."""
    endpoint: Any
    """The :class:`moltbot.GatewayEndpoint` to expose (an auth mode the transport accepts)."""
    exposed: Callable[[], Awaitable[bool]]
    """Whether the remote side (the fake service) currently exposes the endpoint."""


class TransportConformance:
    """Provide an async ``transport_harness`` fixture returning a :class:`TransportHarness`."""

    async def test_exposes_while_running_and_undoes_it_on_shutdown(
        self, transport_harness: TransportHarness
    ) -> None:
        with trio.fail_after(DEADLINE):
            async with trio.open_nursery() as nursery:
                await nursery.start(transport_harness.transport.run, transport_harness.endpoint)
                assert await transport_harness.exposed()
                nursery.cancel_scope.cancel()
        assert not await transport_harness.exposed()

    async def test_can_run_again_after_a_clean_shutdown(self, transport_harness: TransportHarness) -> None:
        for _ in range(2):
            with trio.fail_after(DEADLINE):
                async with trio.open_nursery() as nursery:
                    await nursery.start(transport_harness.transport.run, transport_harness.endpoint)
                    assert await transport_harness.exposed()
                    nursery.cancel_scope.cancel()
        assert not await transport_harness.exposed()

    async def test_status_is_json_before_during_and_after(self, transport_harness: TransportHarness) -> None:
        import json

        json.dumps(transport_harness.transport.status())
        async with trio.open_nursery() as nursery:
            await nursery.start(transport_harness.transport.run, transport_harness.endpoint)
            during = transport_harness.transport.status()
            assert isinstance(during, dict) and during
            json.dumps(during)
            nursery.cancel_scope.cancel()
        json.dumps(transport_harness.transport.status())

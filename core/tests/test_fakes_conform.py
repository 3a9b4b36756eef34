"""moltbot.testing's fakes pass the conformance suites they exist to stand in for."""

import pytest

from moltbot.interfaces import ProviderError
from moltbot.interfaces.provider import Done, TextDelta
from moltbot.testing import (
    FakeModelProvider,
    ListLogSink,
    MemoryCacheBackend,
    MemoryChatChannel,
)
from moltbot.testing.conformance import (
    CacheBackendConformance,
    ChannelHarness,
    ChatChannelConformance,
    LogSinkConformance,
    LogSinkHarness,
    ModelProviderConformance,
    ProviderHarness,
)


class TestMemoryChannel(ChatChannelConformance):
    @pytest.fixture
    async def harness(self):
        channel = MemoryChatChannel()

        async def inject(text, sender):
            await channel.deliver(text, sender=sender)

        async def delivered():
            return [m.text for m in channel.sent]

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered)


class TestFakeProvider(ModelProviderConformance):
    @pytest.fixture
    async def provider_harness(self):
        provider = FakeModelProvider()
        return ProviderHarness(
            provider=provider,
            model="fake",
            reply_with=lambda text: provider.script.append([TextDelta(text), Done("end")]),
            fail_auth=lambda: provider.script.append(ProviderError("auth", "bad key", status=401)),
        )


class TestListLogSink(LogSinkConformance):
    @pytest.fixture
    async def sink_harness(self):
        sink = ListLogSink()

        async def received():
            return [r.message for r in sink.records]

        return LogSinkHarness(sink=sink, received=received)


class TestMemoryCache(CacheBackendConformance):
    @pytest.fixture
    async def backend(self):
        return MemoryCacheBackend()


async def test_memory_cache_expiry_follows_the_trio_clock(autojump_clock):
    import trio

    backend = MemoryCacheBackend()
    await backend.set("ns:k", b"v", ttl=60)
    await trio.sleep(59)
    assert await backend.get("ns:k") == b"v"
    await trio.sleep(2)
    assert await backend.get("ns:k") is None

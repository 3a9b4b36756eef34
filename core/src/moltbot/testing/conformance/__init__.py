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

from moltbot.testing.conformance._common import DEADLINE, wait_until
from moltbot.testing.conformance.alert_sinks import AlertSinkConformance, AlertSinkHarness
from moltbot.testing.conformance.cache import CacheBackendConformance, ExpiryHarness
from moltbot.testing.conformance.channels import ChannelHarness, ChatChannelConformance
from moltbot.testing.conformance.log_sinks import LogSinkConformance, LogSinkHarness, sample_record
from moltbot.testing.conformance.providers import ModelProviderConformance, ProviderHarness
from moltbot.testing.conformance.tools import ToolConformance
from moltbot.testing.conformance.transports import TransportConformance, TransportHarness

__all__ = [
    "DEADLINE",
    "AlertSinkConformance",
    "AlertSinkHarness",
    "CacheBackendConformance",
    "ChannelHarness",
    "ChatChannelConformance",
    "ExpiryHarness",
    "LogSinkConformance",
    "LogSinkHarness",
    "ModelProviderConformance",
    "ProviderHarness",
    "ToolConformance",
    "TransportConformance",
    "TransportHarness",
    "sample_record",
    "wait_until",
]

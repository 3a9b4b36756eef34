"""Conformance suite for transports."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from moltbot.testing.conformance._common import DEADLINE


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

        json.dumps(transport_harness.transport.status())
        async with trio.open_nursery() as nursery:
            await nursery.start(transport_harness.transport.run, transport_harness.endpoint)
            during = transport_harness.transport.status()
            assert isinstance(during, dict) and during
            json.dumps(during)
            nursery.cancel_scope.cancel()
        json.dumps(transport_harness.transport.status())

"""The webhook alert sink against a raw loopback HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from moltbot_alert_webhook.sink import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookAlertSink,
    WebhookConfig,
    sign,
)

from moltbot import Alert
from moltbot.testing import build_context
from moltbot.testing.conformance import AlertSinkConformance, AlertSinkHarness

ALERT = Alert(
    level="warning",
    metric="system.memoryUsage",
    current_value=0.93,
    threshold=0.9,
    message="Memory usage is 93%",
    state="resolved",
    time=datetime(2026, 1, 1, tzinfo=UTC),
)


def make(tmp_path: Path, url: str, **config: object) -> WebhookAlertSink:
    return WebhookAlertSink(
        WebhookConfig.model_validate({"url": url, "retryDelay": 1, **config}),
        build_context(tmp_path, "webhook"),
        clock=lambda: 1_700_000_000.5,
    )


class TestWebhookConformance(AlertSinkConformance):
    @pytest.fixture
    async def alert_harness(self, tmp_path, http_receiver):
        sink = make(tmp_path, http_receiver.url)

        async def received() -> list[str]:
            return [r.json()["metric"] for r in http_receiver.accepted()]

        return AlertSinkHarness(sink=sink, received=received)


async def test_signed_alert_body(tmp_path, http_receiver) -> None:
    sink = make(tmp_path, http_receiver.url, secret="s3cret", headers={"X-Team": "ops"})
    await sink.send(ALERT)
    await sink.aclose()
    [request] = http_receiver.requests
    assert request.json() == {
        "source": "moltbot",
        "host": request.json()["host"],
        "level": "warning",
        "metric": "system.memoryUsage",
        "currentValue": 0.93,
        "threshold": 0.9,
        "message": "Memory usage is 93%",
        "state": "resolved",
        "time": "2026-01-01T00:00:00+00:00",
    }
    assert request.headers[TIMESTAMP_HEADER.lower()] == "1700000000"
    assert request.headers[SIGNATURE_HEADER.lower()] == sign("s3cret", "1700000000", request.body)
    assert request.headers["x-team"] == "ops"


async def test_unsigned_without_a_secret(tmp_path, http_receiver) -> None:
    sink = make(tmp_path, http_receiver.url)
    await sink.send(ALERT)
    await sink.aclose()
    assert SIGNATURE_HEADER.lower() not in http_receiver.requests[0].headers


async def test_retries_server_errors_then_succeeds(tmp_path, http_receiver) -> None:
    http_receiver.fail_next(503)
    http_receiver.fail_next(429)
    sink = make(tmp_path, http_receiver.url, retries=2)
    await sink.send(ALERT)
    await sink.aclose()
    assert [r.status for r in http_receiver.requests] == [503, 429, 200]


async def test_failures_raise_for_the_monitor_to_record(tmp_path, http_receiver) -> None:
    http_receiver.fail_next(400)
    sink = make(tmp_path, http_receiver.url, retries=3)
    with pytest.raises(httpx.HTTPStatusError):
        await sink.send(ALERT)
    assert len(http_receiver.requests) == 1  # a 4xx is not retried
    await sink.aclose()
    http_receiver.fail_next(500, times=2)
    retrying = make(tmp_path, http_receiver.url, retries=1)
    with pytest.raises(httpx.HTTPStatusError):
        await retrying.send(ALERT)
    await retrying.aclose()
    assert [r.status for r in http_receiver.requests] == [400, 500, 500]


async def test_unreachable_receiver_raises(tmp_path) -> None:
    sink = make(tmp_path, "http://127.0.0.1:9/alerts", retries=0)
    with pytest.raises(httpx.ConnectError):
        await sink.send(ALERT)
    await sink.aclose()


def test_secret_is_not_shown_in_config_repr() -> None:
    config = WebhookConfig.model_validate({"url": "https://example.com/hook", "secret": "s3cret"})
    assert "s3cret" not in repr(config)

"""The HTTP sink against a raw loopback receiver that fails, throttles and recovers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import trio
from moltbot_log_http.sink import HttpSink, HttpSinkConfig

from moltbot.testing import build_context
from moltbot.testing.conformance import LogSinkConformance, LogSinkHarness, sample_record, wait_until


def make(tmp_path: Path, url: str, **config: object) -> HttpSink:
    fast = {"flushInterval": 20, "backoffInitial": 5, "backoffMax": 20}
    return HttpSink(
        HttpSinkConfig.model_validate({"url": url, **fast, **config}),
        build_context(tmp_path, "http"),
        rng=random.Random(7),
    )


class TestHttpSinkConformance(LogSinkConformance):
    @pytest.fixture
    async def sink_harness(self, tmp_path, http_receiver):
        sink = make(tmp_path, http_receiver.url)

        async def received() -> list[str]:
            return [r["message"] for req in http_receiver.accepted() for r in req.json()["records"]]

        return LogSinkHarness(sink=sink, received=received)


async def run_until(sink: HttpSink, done, what: str) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        await wait_until(done, what)
        nursery.cancel_scope.cancel()


async def test_records_are_batched_with_headers(tmp_path, http_receiver) -> None:
    sink = make(tmp_path, http_receiver.url, batchSize=10, headers={"Authorization": "Bearer collector"})
    for i in range(25):
        sink.emit(sample_record(f"r{i}", session="s"))

    async def all_in() -> bool:
        return sink.delivered == 25

    await run_until(sink, all_in, "25 records delivered")
    bodies = [req.json() for req in http_receiver.accepted()]
    assert [len(b["records"]) for b in bodies] == [10, 10, 5]
    assert [r["message"] for b in bodies for r in b["records"]] == [f"r{i}" for i in range(25)]
    first = http_receiver.requests[0]
    assert first.method == "POST" and first.path == "/ingest"
    assert first.headers["authorization"] == "Bearer collector"
    assert first.headers["content-type"] == "application/json"
    assert bodies[0]["records"][0]["session"] == "s" and bodies[0]["source"] == "moltbot"


async def test_retries_500_and_429_then_recovers(tmp_path, http_receiver) -> None:
    http_receiver.fail_next(500, times=2)
    http_receiver.fail_next(429, retry_after="0")
    sink = make(tmp_path, http_receiver.url)
    sink.emit(sample_record("persistent"))

    async def delivered() -> bool:
        return sink.delivered == 1

    await run_until(sink, delivered, "delivery after failures")
    assert [r.status for r in http_receiver.requests] == [500, 500, 429, 200]
    assert sink.statistics()["retries"] == 3 and sink.failed == 0


async def test_gives_up_after_max_retries_and_on_client_errors(tmp_path, http_receiver) -> None:
    http_receiver.fail_next(500, times=3)
    http_receiver.fail_next(400)
    sink = make(tmp_path, http_receiver.url, maxRetries=2, flushInterval=0)
    sink.emit(sample_record("doomed"))

    async def failed_once() -> bool:
        return sink.failed == 1

    await run_until(sink, failed_once, "the batch to be given up")
    sink.emit(sample_record("rejected"))

    async def failed_twice() -> bool:
        return sink.failed == 2

    await run_until(sink, failed_twice, "the 400 to be given up without retry")
    assert [r.status for r in http_receiver.requests] == [500, 500, 500, 400]


async def test_full_queue_drops_are_counted_and_reported(tmp_path, http_receiver) -> None:
    http_receiver.stall = trio.Event()
    sink = make(tmp_path, http_receiver.url, queueSize=5, batchSize=1, flushInterval=0)
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        sink.emit(sample_record("first"))

        async def in_flight() -> bool:
            return sink.pending() == 0

        await wait_until(in_flight, "the first record in flight")
        with trio.fail_after(1):
            for i in range(20):
                sink.emit(sample_record(f"burst {i}"))  # the receiver hangs; emit must not
        assert sink.dropped == 15
        http_receiver.stall.set()

        async def drained() -> bool:
            return sink.delivered == 6

        await wait_until(drained, "the queue to drain")
        nursery.cancel_scope.cancel()
    reported = [req.json()["dropped"] for req in http_receiver.accepted()]
    assert sum(reported) == 15
    assert sink.statistics()["dropped"] == 15


async def test_unreachable_collector_is_not_fatal(tmp_path) -> None:
    sink = make(tmp_path, "http://127.0.0.1:9/ingest", maxRetries=1, flushInterval=0)
    sink.emit(sample_record("nowhere"))

    async def failed() -> bool:
        return sink.failed == 1

    await run_until(sink, failed, "the batch to fail")


def test_backoff_is_jittered_and_capped(tmp_path) -> None:
    sink = make(tmp_path, "http://127.0.0.1:9/x", backoffInitial=100, backoffMax=1000)
    delays = [sink.backoff(n) for n in range(10) for _ in range(20)]
    assert all(0 <= d <= 1.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


async def test_secrets_are_redacted_before_reaching_the_collector(tmp_path, http_receiver) -> None:
    import moltbot_log_http
    from loguru import logger

    from moltbot.app import App
    from moltbot.config import Paths
    from moltbot.config.load import validate
    from moltbot.logs import configure_logging
    from moltbot.logs.service import LogsService
    from moltbot.testing import make_plugins

    plugins = make_plugins(moltbot_log_http.moltbot_register_log_sinks)
    raw = {
        "logging": {
            "transports": [{"type": "http", "config": {"url": http_receiver.url, "flushInterval": 0}}]
        },
        "gateway": {"auth": {"token": "gateway-token-123"}},
    }
    app = App(
        paths=Paths(tmp_path, tmp_path / "moltbot.json"), settings=validate(raw, plugins), plugins=plugins
    )
    service = LogsService(configure_logging(app, console=False))
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        logger.info('config {"apiKey": "k-1", "token": "gateway-token-123"} Bearer abc.def')

        async def arrived() -> bool:
            return bool(http_receiver.accepted())

        await wait_until(arrived, "the record at the collector")
        nursery.cancel_scope.cancel()
    [record] = http_receiver.accepted()[0].json()["records"]
    assert record["message"] == 'config {"apiKey": "***", "token": "***"} Bearer ***'

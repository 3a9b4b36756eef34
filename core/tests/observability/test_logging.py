"""configure_logging: loguru fans out to every sink, redacted once; the ring buffer; logs.tail."""

import json
import threading
from typing import ClassVar

import pytest
import trio
from loguru import logger

import moltbot
from moltbot.interfaces.log_sink import LogRecord, LogSink
from moltbot.logs import QueuedLogSink, configure_logging
from moltbot.logs.rpc import TailParams, logs_tail
from moltbot.logs.service import LogsService

SECRET = "sk-ant-api03-SuperSecretValue123"


class MemorySink(LogSink):
    instances: ClassVar[list["MemorySink"]] = []

    def __init__(self, config: object = None, ctx: object = None) -> None:
        self.records: list[LogRecord] = []
        MemorySink.instances.append(self)

    def emit(self, record: LogRecord) -> None:
        self.records.append(record)


class RaisingSink(LogSink):
    def __init__(self, config: object = None, ctx: object = None) -> None:
        pass

    def emit(self, record: LogRecord) -> None:
        raise RuntimeError("broken sink")


@moltbot.hookimpl
def moltbot_register_log_sinks():
    yield moltbot.LogSinkSpec(name="memory", factory=MemorySink)
    yield moltbot.LogSinkSpec(name="raising", factory=RaisingSink)


@pytest.fixture
def app_with(make_app):
    def build(**logging: object):
        MemorySink.instances.clear()
        raw = {
            "logging": {"transports": [{"type": "raising"}, {"type": "memory"}], **logging},
            "gateway": {"auth": {"token": "gw-token-abcdef"}},
        }
        return make_app(raw, moltbot_register_log_sinks)

    return build


def test_records_carry_bound_ids_and_reach_every_sink(app_with, capsys) -> None:
    handle = configure_logging(app_with(format="json"))
    logger.bind(subsystem="agents", plugin="echo", session="s-1", run="r-9").info("run finished")
    record = MemorySink.instances[0].records[-1]
    assert record.message == "run finished" and record.level == "INFO"
    assert record.fields == {"subsystem": "agents", "plugin": "echo", "session": "s-1", "run": "r-9"}
    console = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert console["session"] == "s-1" and console["message"] == "run finished"
    assert handle.emit_errors == 1  # the raising sink was called and contained


def test_secrets_are_masked_for_all_sinks_and_the_ring(app_with, capsys) -> None:
    handle = configure_logging(app_with(format="json", redactPatterns=[r"cust-\d+"]))
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError:
        logger.bind(apiKey="plain", note=f"token is {SECRET}").exception(
            "calling with {} and gw-token-abcdef for cust-42", SECRET
        )
    outputs = {
        "memory": json.dumps(
            [[r.message, r.exception, dict(r.fields)] for r in MemorySink.instances[0].records]
        ),
        "console": capsys.readouterr().err,
        "ring": "\n".join(handle.ring.tail()["lines"]),
    }
    for name, text in outputs.items():
        for secret in (SECRET, "gw-token-abcdef", "cust-42", '"plain"'):
            assert secret not in text, f"{secret} leaked to {name}"
        assert "***" in text


def test_redaction_can_be_disabled(app_with) -> None:
    configure_logging(app_with(redactSensitive=False), console=False)
    logger.info("key {}", SECRET)
    assert SECRET in MemorySink.instances[0].records[-1].message


def test_level_filters_records(app_with) -> None:
    configure_logging(app_with(level="warn"), console=False)
    logger.info("quiet")
    logger.warning("loud")
    assert [r.message for r in MemorySink.instances[0].records] == ["loud"]


async def test_logs_tail_pages_with_a_cursor(app_with, rpc_ctx) -> None:
    app = app_with()
    handle = configure_logging(app, console=False)
    app.services["logs"] = LogsService(handle)
    for i in range(5):
        logger.info("line {}", i)
    logger.error("boom")
    first = await logs_tail(rpc_ctx(app, TailParams(limit=3)))
    assert [json.loads(x)["message"] for x in first["lines"]] == ["line 3", "line 4", "boom"]
    assert first["cursor"] == 6 and not first["truncated"] and not first["reset"]
    logger.info("line 6")
    after = await logs_tail(rpc_ctx(app, TailParams(cursor=first["cursor"])))
    assert [json.loads(x)["message"] for x in after["lines"]] == ["line 6"]
    errors = await logs_tail(rpc_ctx(app, TailParams(cursor=0, level="error")))
    assert [json.loads(x)["message"] for x in errors["lines"]] == ["boom"]
    future = await logs_tail(rpc_ctx(app, TailParams(cursor=999)))
    assert future["reset"] and future["cursor"] == 7


def test_ring_reports_truncation_when_the_cursor_fell_off() -> None:
    from moltbot.logs.ring import RingBuffer

    ring = RingBuffer(capacity=3)
    for i in range(10):
        ring.append("INFO", str(i))
    page = ring.tail(cursor=2, limit=10)
    assert page == {"cursor": 10, "lines": ["7", "8", "9"], "truncated": True, "reset": False}


async def test_logs_tail_without_the_service_is_unavailable(make_app, rpc_ctx) -> None:
    with pytest.raises(moltbot.RpcError) as info:
        await logs_tail(rpc_ctx(make_app(), TailParams()))
    assert info.value.code == "UNAVAILABLE"


class SlowSink(QueuedLogSink):
    def __init__(self, capacity: int = 4, fail_first: bool = False) -> None:
        super().__init__(capacity=capacity, batch_size=10)
        self.batches: list[list[str]] = []
        self.release = trio.Event()
        self.fail_first = fail_first

    async def deliver(self, batch: list[LogRecord]) -> None:
        if self.fail_first:
            self.fail_first = False
            raise OSError("destination down")
        await self.release.wait()
        self.batches.append([r.message for r in batch])
        self.delivered += len(batch)


def record(message: str) -> LogRecord:
    from moltbot.testing.conformance import sample_record

    return sample_record(message)


async def test_queue_drops_and_counts_instead_of_blocking() -> None:
    sink = SlowSink(capacity=4)
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        for i in range(10):
            sink.emit(record(f"m{i}"))  # never blocks, even though nothing drains yet
        await trio.testing.wait_all_tasks_blocked()
        sink.release.set()
        await trio.testing.wait_all_tasks_blocked()
        nursery.cancel_scope.cancel()
    stats = sink.statistics()
    # the drain task took one record off before blocking, so 5 fit; the rest were dropped
    assert stats["emitted"] + stats["dropped"] == 10 and stats["dropped"] == 5
    assert sum(len(b) for b in sink.batches) == stats["delivered"] == 5


async def test_records_from_other_threads_are_handed_to_trio() -> None:
    sink = SlowSink()
    sink.release.set()
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        await trio.to_thread.run_sync(lambda: sink.emit(record(f"from {threading.current_thread().name}")))
        with trio.fail_after(5):
            while not sink.batches:
                await trio.sleep(0.001)
        nursery.cancel_scope.cancel()
    assert sink.batches[0][0].startswith("from ")


async def test_logs_service_restarts_a_failing_sink(app_with, autojump_clock) -> None:
    app = app_with()
    handle = configure_logging(app, console=False)
    flaky = SlowSink(fail_first=True)
    flaky.release.set()
    handle.sinks["flaky"] = flaky
    service = LogsService(handle)
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        logger.info("lost with the failure")
        await trio.sleep(0.1)
        assert service.status()["restarts"] == {"flaky": 1}
        await trio.sleep(2)  # the restart pause
        logger.info("after restart")
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert ["after restart"] in flaky.batches
    assert handle.handler_id is None  # the service closed logging on shutdown


def test_stdlib_warnings_from_libraries_reach_the_sinks_redacted(app_with) -> None:
    import logging

    configure_logging(app_with(), console=False)
    logging.getLogger("hypercorn.error").warning("client sent Bearer abc.def")
    logging.getLogger("httpx").info("HTTP Request: POST https://logs.example.com 200")  # not forwarded
    [record] = MemorySink.instances[0].records
    assert record.level == "WARNING" and record.message == "client sent Bearer ***"
    assert record.fields == {"subsystem": "hypercorn.error"}


def test_a_token_rotated_by_hot_reload_is_masked(app_with) -> None:
    app = app_with()
    configure_logging(app, console=False)
    rotated = "gw-token-rotated-0123456789"
    gateway = app.settings.gateway.model_copy(
        update={"auth": app.settings.gateway.auth.model_copy(update={"token": rotated})}
    )
    app.settings = app.settings.model_copy(update={"gateway": gateway})  # what the reloader does
    logger.info("client used {}", rotated)
    assert rotated not in MemorySink.instances[0].records[-1].message

"""The syslog sink against real loopback receivers that parse RFC 5424."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import trio
from moltbot_log_syslog.sink import SyslogConfig, SyslogSink

from moltbot.interfaces.log_sink import LogRecord
from moltbot.testing import build_context
from moltbot.testing.conformance import LogSinkConformance, LogSinkHarness, sample_record, wait_until


def make(tmp_path: Path, **config: object) -> SyslogSink:
    return SyslogSink(SyslogConfig.model_validate(config), build_context(tmp_path, "syslog"))


class TestSyslogUdpConformance(LogSinkConformance):
    @pytest.fixture
    async def sink_harness(self, tmp_path, udp_receiver):
        sink = make(tmp_path, port=udp_receiver.port)

        async def received() -> list[str]:
            return udp_receiver.texts()

        return LogSinkHarness(sink=sink, received=received)


async def send_all(sink: SyslogSink, receiver, records: list[LogRecord]) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        for record in records:
            sink.emit(record)

        async def all_arrived() -> bool:
            return len(receiver.messages) >= len(records)

        await wait_until(all_arrived, "every record at the receiver")
        nursery.cancel_scope.cancel()


async def test_header_fields_and_structured_data(tmp_path, udp_receiver) -> None:
    sink = make(
        tmp_path, port=udp_receiver.port, facility="local3", appName="molt bot", hostname="gw-1", procid="42"
    )
    record = sample_record("séance ended", session='s"1]', subsystem="agents")
    record = LogRecord(**{**record.__dict__, "level": "ERROR"})
    await send_all(sink, udp_receiver, [record])
    [got] = udp_receiver.messages
    assert (got.facility, got.severity) == (19, 3)
    assert (got.hostname, got.app, got.procid, got.msgid) == ("gw-1", "moltbot", "42", "agents")
    assert got.msg == "séance ended"
    assert got.sd.startswith("[moltbot@32473 ")
    assert got.params() == {"session": 's"1]', "subsystem": "agents"}


async def test_tcp_uses_octet_counting_for_multiline_messages(tmp_path, tcp_receiver) -> None:
    sink = make(tmp_path, transport="tcp", port=tcp_receiver.port, structuredData=False, msgid="MOLT")
    records = [sample_record(f"line one {i}\nline two {i}") for i in range(30)]
    await send_all(sink, tcp_receiver, records)
    assert tcp_receiver.texts() == [f"line one {i}\nline two {i}" for i in range(30)]
    assert {m.sd for m in tcp_receiver.messages} == {"-"} and tcp_receiver.messages[0].msgid == "MOLT"
    assert sink.statistics()["delivered"] == 30


async def test_unix_datagram_socket(tmp_path, unix_receiver) -> None:
    sink = make(tmp_path, transport="unix", socketPath=str(unix_receiver.path))
    await send_all(sink, unix_receiver, [sample_record("over a unix socket")])
    assert unix_receiver.texts() == ["over a unix socket"]


async def test_unreachable_tcp_receiver_counts_failures_without_raising(tmp_path, autojump_clock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = make(tmp_path, transport="tcp", port=port)
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        sink.emit(sample_record("nobody listens"))
        await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert sink.statistics()["failed"] == 1


def test_unknown_facility_is_rejected() -> None:
    with pytest.raises(ValueError, match="facility"):
        SyslogConfig.model_validate({"facility": "local9"})


async def test_secrets_are_redacted_before_reaching_syslog(tmp_path, udp_receiver) -> None:
    import moltbot_log_syslog
    from loguru import logger

    from moltbot.app import App
    from moltbot.config import Paths
    from moltbot.config.load import validate
    from moltbot.logs import configure_logging
    from moltbot.logs.service import LogsService
    from moltbot.testing import make_plugins

    plugins = make_plugins(moltbot_log_syslog.moltbot_register_log_sinks)
    raw = {
        "logging": {"transports": [{"type": "syslog", "config": {"port": udp_receiver.port}}]},
        "gateway": {"auth": {"mode": "password", "password": "hunter2-gateway"}},
    }
    app = App(
        paths=Paths(tmp_path, tmp_path / "moltbot.json"), settings=validate(raw, plugins), plugins=plugins
    )
    service = LogsService(configure_logging(app, console=False))
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        logger.bind(token="abc", session="s-9").warning(
            "login with hunter2-gateway and key sk-ant-api03-0123456789abcdef"
        )

        async def arrived() -> bool:
            return bool(udp_receiver.messages)

        await wait_until(arrived, "the record at the syslog receiver")
        nursery.cancel_scope.cancel()
    [got] = udp_receiver.messages
    assert got.msg == "login with *** and key ***"
    assert got.params() == {"token": "***", "session": "s-9"}


async def test_tcp_reconnects_after_the_receiver_drops_the_connection(tmp_path) -> None:
    from functools import partial

    got: list[str] = []

    async def one_message_per_connection(stream: trio.SocketStream) -> None:
        data = await stream.receive_some(65536)
        got.append(data.split(b"\xef\xbb\xbf", 1)[1].decode())
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, host="127.0.0.1"), one_message_per_connection, 0
        )
        sink = make(tmp_path, transport="tcp", port=listeners[0].socket.getsockname()[1])
        await nursery.start(sink.run)
        attempt = 0

        async def delivered_after_reconnect() -> bool:
            nonlocal attempt
            attempt += 1
            sink.emit(sample_record(f"attempt {attempt}"))
            await trio.sleep(0.05)
            return len(got) >= 2

        await wait_until(delivered_after_reconnect, "a record over a second connection")
        nursery.cancel_scope.cancel()
    assert got[0] == "attempt 1" and sink.statistics()["failed"] >= 1

"""A syslog receiver on loopback that parses RFC 5424 (UDP datagrams, RFC 6587 TCP frames)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
import trio

SYSLOG_RE = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<hostname>\S+) (?P<app>\S+) (?P<procid>\S+) "
    r"(?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: \ufeff(?P<msg>.*))?$",
    re.DOTALL,
)


@dataclass
class Received:
    pri: int
    timestamp: str
    hostname: str
    app: str
    procid: str
    msgid: str
    sd: str
    msg: str

    @property
    def facility(self) -> int:
        return self.pri // 8

    @property
    def severity(self) -> int:
        return self.pri % 8

    def params(self) -> dict[str, str]:
        return {k: re.sub(r"\\(.)", r"\1", v) for k, v in re.findall(r'(\S+?)="((?:[^"\\]|\\.)*)"', self.sd)}


def parse(raw: bytes) -> Received:
    match = SYSLOG_RE.match(raw.decode("utf-8"))
    assert match, f"not RFC 5424: {raw!r}"
    return Received(
        pri=int(match["pri"]),
        **{k: match[k] for k in ("timestamp", "hostname", "app", "procid", "msgid", "sd")},
        msg=match["msg"] or "",
    )


@dataclass
class Receiver:
    port: int = 0
    path: Path | None = None
    messages: list[Received] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [m.msg for m in self.messages]


async def _serve_udp(sock: trio.socket.SocketType, receiver: Receiver) -> None:
    while True:
        data = await sock.recv(65535)
        receiver.messages.append(parse(data))


async def read_octet_frames(stream: trio.abc.Stream, receiver: Receiver) -> None:
    buffer = b""
    while True:
        chunk = await stream.receive_some(65536)
        if not chunk:
            return
        buffer += chunk
        while b" " in buffer:
            length, rest = buffer.split(b" ", 1)
            assert length.isdigit(), f"bad octet count {length!r}"
            if len(rest) < int(length):
                break
            receiver.messages.append(parse(rest[: int(length)]))
            buffer = rest[int(length) :]


@pytest.fixture
async def udp_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_DGRAM)
    await sock.bind(("127.0.0.1", 0))
    receiver.port = sock.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve_udp, sock, receiver)
        yield receiver
        nursery.cancel_scope.cancel()
    sock.close()


@pytest.fixture
async def tcp_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            partial(trio.serve_tcp, host="127.0.0.1"), lambda stream: read_octet_frames(stream, receiver), 0
        )
        receiver.port = listeners[0].socket.getsockname()[1]
        yield receiver
        nursery.cancel_scope.cancel()


@pytest.fixture
async def unix_receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    receiver = Receiver(path=tmp_path / "log.sock")
    sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
    await sock.bind(str(receiver.path))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_serve_udp, sock, receiver)
        yield receiver
        nursery.cancel_scope.cancel()
    sock.close()

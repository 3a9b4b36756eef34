"""The syslog sink: records are formatted on ``emit``'s side, queued, and sent by ``run``.

UDP and unix datagram sockets send one message per datagram; TCP and unix stream sockets use
RFC 6587 octet counting. A stream that breaks is reconnected with doubling backoff (0.5 s to
30 s); records that could not be sent meanwhile are counted in ``failed``.
"""

from __future__ import annotations

import os
import socket as stdlib_socket
from typing import Literal

import trio
from pydantic import Field, model_validator

from moltbot import BuildContext, LogRecord, StrictModel
from moltbot.logs import QueuedLogSink
from moltbot_log_syslog.rfc5424 import FACILITIES, format_message, octet_frame

UDP_MAX = 8192
"""Longest datagram sent; longer messages are truncated (RFC 5426 asks receivers for 2048+)."""
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 30.0


class SyslogConfig(StrictModel):
    transport: Literal["udp", "tcp", "unix"] = "udp"
    host: str = "127.0.0.1"
    port: int = Field(514, ge=1, le=65535)
    socket_path: str = "/dev/log"
    unix_type: Literal["dgram", "stream"] = "dgram"
    facility: str = "user"
    app_name: str = "moltbot"
    hostname: str | None = None
    """Default: this machine's host name."""
    procid: str | None = None
    """Default: the process id."""
    msgid: str | None = None
    """Default: the record's ``subsystem``."""
    structured_data: bool = True
    """Send bound fields (session, run, plugin, ...) as an SD element."""
    sd_id: str = "moltbot@32473"
    queue_size: int = Field(1000, ge=1)

    @model_validator(mode="after")
    def _facility(self) -> SyslogConfig:
        if self.facility not in FACILITIES:
            raise ValueError(f"facility must be one of {', '.join(FACILITIES)}")
        return self


class SyslogSink(QueuedLogSink):
    def __init__(self, config: SyslogConfig, ctx: BuildContext) -> None:
        super().__init__(capacity=config.queue_size, batch_size=50)
        self.config = config
        self.hostname = config.hostname or stdlib_socket.gethostname()
        self.procid = config.procid or str(os.getpid())
        self._stream: trio.abc.Stream | None = None
        self._dgram: trio.socket.SocketType | None = None
        self._backoff = BACKOFF_FIRST

    def format(self, record: LogRecord) -> bytes:
        c = self.config
        return format_message(
            record,
            facility=FACILITIES[c.facility],
            hostname=self.hostname,
            app_name=c.app_name,
            procid=self.procid,
            msgid=c.msgid,
            sd_id=c.sd_id if c.structured_data else None,
        )

    async def deliver(self, batch: list[LogRecord]) -> None:
        messages = [self.format(r) for r in batch]
        if self.config.transport == "udp" or (
            self.config.transport == "unix" and self.config.unix_type == "dgram"
        ):
            await self._send_datagrams(messages)
        else:
            await self._send_stream(b"".join(octet_frame(m) for m in messages), len(messages))

    async def _send_datagrams(self, messages: list[bytes]) -> None:
        for message in messages:
            try:
                if self._dgram is None:
                    self._dgram = await self._open_dgram()
                await self._dgram.send(message[:UDP_MAX])
            except OSError:
                self.failed += 1
                self._close_dgram()
            else:
                self.delivered += 1

    async def _open_dgram(self) -> trio.socket.SocketType:
        if self.config.transport == "unix":
            sock = trio.socket.socket(trio.socket.AF_UNIX, trio.socket.SOCK_DGRAM)
            await sock.connect(self.config.socket_path)
            return sock
        family, kind, proto, _, address = (
            await trio.socket.getaddrinfo(self.config.host, self.config.port, type=trio.socket.SOCK_DGRAM)
        )[0]
        sock = trio.socket.socket(family, kind, proto)
        await sock.connect(address)
        return sock

    async def _send_stream(self, data: bytes, count: int) -> None:
        try:
            if self._stream is None:
                if self.config.transport == "unix":
                    self._stream = await trio.open_unix_socket(self.config.socket_path)
                else:
                    self._stream = await trio.open_tcp_stream(self.config.host, self.config.port)
            await self._stream.send_all(data)
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            self.failed += count
            await self._close_stream()
            await trio.sleep(self._backoff)  # the queue absorbs records meanwhile, then drops
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
        else:
            self.delivered += count
            self._backoff = BACKOFF_FIRST

    async def _close_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            with trio.CancelScope(shield=True):
                await stream.aclose()

    def _close_dgram(self) -> None:
        if self._dgram is not None:
            self._dgram.close()
            self._dgram = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            await super().run(task_status=task_status)
        finally:
            self._close_dgram()
            await self._close_stream()

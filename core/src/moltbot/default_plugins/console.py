"""The built-in ``console`` log sink: text for a terminal, JSON lines when asked."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Literal, TextIO

from moltbot import hookimpl
from moltbot.config.base import StrictModel
from moltbot.interfaces.log_sink import LogRecord, LogSink
from moltbot.logs.format import record_json
from moltbot.specs import BuildContext, LogSinkSpec


class ConsoleConfig(StrictModel):
    format: Literal["text", "json"] | None = None
    """Defaults to ``logging.format``."""
    stream: Literal["stderr", "stdout"] = "stderr"


class ConsoleSink(LogSink):
    """Writes each record as one line; never buffers beyond the stream's own buffer."""

    def __init__(self, config: ConsoleConfig, ctx: BuildContext) -> None:
        self.format = config.format or ctx.settings.logging.format
        self.stream: TextIO = sys.stderr if config.stream == "stderr" else sys.stdout
        self.emitted = 0

    def emit(self, record: LogRecord) -> None:
        if self.format == "json":
            line = record_json(record)
        else:
            context = " ".join(f"{k}={v}" for k, v in record.fields.items())
            line = f"{record.time:%H:%M:%S} {record.level:<7} {record.message}" + (
                f"  [{context}]" if context else ""
            )
            if record.exception:
                line += "\n" + record.exception.rstrip()
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            return  # a closed terminal must not take the gateway down
        self.emitted += 1

    def statistics(self) -> dict[str, int]:
        return {"emitted": self.emitted}


@hookimpl
def moltbot_register_log_sinks() -> Iterator[LogSinkSpec]:
    yield LogSinkSpec(
        name="console",
        factory=ConsoleSink,
        config=ConsoleConfig,
        summary="Log lines on the terminal (text or JSON)",
    )

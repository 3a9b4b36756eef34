"""Configures loguru from ``settings.logging``: one loguru handler fans records out to every sink.

The handler converts loguru's record into a redacted :class:`moltbot.LogRecord` once, keeps its
JSON line in the ring buffer behind ``logs.tail``, and calls each sink's ``emit`` synchronously.
Only the CLI and the runtime call :func:`configure_logging`; library code just uses ``logger``
(bind ``subsystem``, ``plugin``, ``session`` and ``run`` with ``logger.bind``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loguru import logger

from moltbot.config.load import plugin_config
from moltbot.config.model import PluginSection
from moltbot.errors import PluginError
from moltbot.interfaces.log_sink import LogRecord, LogSink
from moltbot.logs.format import record_json
from moltbot.logs.redact import Redactor
from moltbot.logs.ring import RingBuffer
from moltbot.specs import BuildContext

if TYPE_CHECKING:
    from loguru import Message

    from moltbot.app import App

_LOGURU_LEVEL = {"debug": "DEBUG", "info": "INFO", "warn": "WARNING", "error": "ERROR"}
_active: LoggingHandle | None = None


@dataclass
class LoggingHandle:
    """The configured logging: named sinks, the shared redactor and the recent-records ring."""

    sinks: dict[str, LogSink]
    redactor: Redactor
    ring: RingBuffer = field(default_factory=RingBuffer)
    emit_errors: int = 0
    handler_id: int | None = None
    app: Any = None
    level: str = "INFO"
    _redacting_for: Any = None
    """The settings ``redactor`` was built from; a hot reload replaces ``app.settings``."""

    def __call__(self, message: Message) -> None:
        """loguru's sink callable: convert, redact, remember, fan out."""
        record = self.convert(message.record)
        self.ring.append(record.level, record_json(record))
        for sink in self.sinks.values():
            try:
                sink.emit(record)
            except Exception:  # emit must not raise; one bad sink must not silence the rest
                self.emit_errors += 1

    def convert(self, raw: Any) -> LogRecord:
        exception = None
        if raw["exception"] is not None:
            kind, value, tb = raw["exception"]
            exception = "".join(traceback.format_exception(kind, value, tb))
        redact = self._current_redactor()
        return LogRecord(
            time=raw["time"],
            level=raw["level"].name,
            message=redact.text(raw["message"]),
            name=raw["name"] or "",
            fields={str(k): redact.value(v, str(k)) for k, v in raw["extra"].items()},
            exception=redact.text(exception) if exception else None,
        )

    def _current_redactor(self) -> Redactor:
        """Rebuilt when a hot reload replaced ``app.settings``, so a rotated gateway token or
        password is masked from the next record on (an identity check per record)."""
        settings = getattr(self.app, "settings", None)
        if settings is not None and settings is not self._redacting_for:
            self.redactor = Redactor.from_settings(settings)
            self._redacting_for = settings
        return self.redactor

    def statistics(self) -> dict[str, Any]:
        return {
            "sinks": {name: sink.statistics() for name, sink in self.sinks.items()},
            "emitErrors": self.emit_errors,
            "buffered": self.ring.next_cursor,
        }

    def close(self) -> None:
        """Detach from loguru and close every sink (files flushed, sockets released); later
        records (shutdown messages) go to stderr as plain text."""
        global _active
        if self.handler_id is not None:
            with contextlib.suppress(ValueError):  # already removed by a later configure_logging
                logger.remove(self.handler_id)
                logger.add(_stderr, level=self.level, format="{time:HH:mm:ss} {level:<7} {message}")
            self.handler_id = None
        for sink in self.sinks.values():
            try:
                sink.close()
            except Exception:
                logger.opt(exception=True).warning("closing a log sink failed")
        if _active is self:
            _active = None


def build_sinks(app: App, *, console: bool = True) -> dict[str, LogSink]:
    """The console sink (unless listed or disabled) plus one sink per ``logging.transports[]``."""
    settings = app.settings
    specs = app.plugins.log_sinks()
    entries = list(settings.logging.transports)
    sinks: dict[str, LogSink] = {}
    if console and not any(e.type == "console" for e in entries):
        entries.insert(0, PluginSection(type="console"))
    for i, entry in enumerate(entries):
        spec = specs.get(entry.type)
        if spec is None:
            raise PluginError(
                f"logging.transports[{i}]: no installed plugin provides log sink {entry.type!r}"
            )
        ctx = BuildContext(name=entry.type, state_dir=app.paths.state_dir / "logs", settings=settings)
        key = entry.type if entry.type not in sinks else f"{entry.type}#{i}"
        sinks[key] = spec.factory(plugin_config(spec, entry.config), ctx)
    return sinks


def configure_logging(app: App, *, console: bool = True, level: str | None = None) -> LoggingHandle:
    """Replace loguru's handlers with one that feeds the sinks configured in ``app.settings``.

    ``level`` (``debug``/``info``/``warn``/``error``) overrides ``logging.level``.
    """
    global _active
    if _active is not None:
        _active.close()
    handle = LoggingHandle(
        sinks=build_sinks(app, console=console),
        redactor=Redactor.from_settings(app.settings),
        app=app,
        level=_LOGURU_LEVEL[level or app.settings.logging.level],
    )
    logger.remove()
    _intercept_stdlib()
    handle.handler_id = logger.add(handle, level=handle.level, format="{message}")
    _active = handle
    return handle


def _stderr(message: str) -> None:
    """Resolves ``sys.stderr`` per call, so a replaced stream (tests, daemons) is honoured."""
    sys.stderr.write(message)


class _StdlibToLoguru(logging.Handler):
    """Forwards warnings and errors of libraries using ``logging`` (hypercorn, httpx, ...) so
    they are redacted and reach the sinks too. INFO is not forwarded: httpx logs every request
    at INFO, which would feed the HTTP log sink's own traffic back into it."""

    def emit(self, record: logging.LogRecord) -> None:
        level = "CRITICAL" if record.levelno >= 50 else "ERROR" if record.levelno >= 40 else "WARNING"
        logger.bind(subsystem=record.name).opt(exception=record.exc_info).log(level, record.getMessage())


def _intercept_stdlib() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, _StdlibToLoguru) for h in root.handlers):
        root.addHandler(_StdlibToLoguru(level=logging.WARNING))


def active_logging(app: App) -> LoggingHandle:
    """The handle configured for ``app``, configuring logging now if nobody did."""
    if _active is not None and _active.app is app:
        return _active
    return configure_logging(app)

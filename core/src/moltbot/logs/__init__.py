"""Logging setup: loguru fanned out to log-sink plugins through one redacting handler.

Not named ``logging`` so it never shadows the standard library module.
"""

from moltbot.logs.queue import QueuedLogSink
from moltbot.logs.redact import Redactor
from moltbot.logs.ring import RingBuffer
from moltbot.logs.setup import LoggingHandle, active_logging, configure_logging

__all__ = [
    "LoggingHandle",
    "QueuedLogSink",
    "Redactor",
    "RingBuffer",
    "active_logging",
    "configure_logging",
]

"""One JSON shape for a log record, shared by the console, the ring buffer and the JSON sinks."""

from __future__ import annotations

import json
from typing import Any

from moltbot.interfaces.log_sink import LogRecord


def record_dict(record: LogRecord) -> dict[str, Any]:
    """``{time, level, name, message, <bound fields>..., exception?}``; fields never override
    the four fixed keys."""
    out: dict[str, Any] = {k: v for k, v in record.fields.items()}
    out.update(time=record.time.isoformat(), level=record.level, name=record.name, message=record.message)
    if record.exception:
        out["exception"] = record.exception
    return out


def record_json(record: LogRecord) -> str:
    return json.dumps(record_dict(record), default=str, ensure_ascii=False)

"""RFC 5424 message formatting (and the RFC 6587 octet-counting frame for stream transports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moltbot import LogRecord

FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
    "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
    "solaris-cron": 15, **{f"local{i}": 16 + i for i in range(8)},
}  # fmt: skip
SEVERITIES = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "SUCCESS": 5, "INFO": 6, "DEBUG": 7, "TRACE": 7}
NILVALUE = "-"
BOM = "\ufeff"


def header_field(value: str | None, limit: int) -> str:
    """PRINTUSASCII (33..126) only, truncated to the field's limit; ``-`` when empty."""
    cleaned = "".join(c for c in (value or "") if 33 <= ord(c) <= 126)[:limit]
    return cleaned or NILVALUE


def sd_name(value: str) -> str:
    return "".join(c for c in value if 33 <= ord(c) <= 126 and c not in '= ]"')[:32] or "x"


def sd_value(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(sd_id: str, fields: Mapping[str, Any]) -> str:
    if not fields:
        return NILVALUE
    params = " ".join(f'{sd_name(k)}="{sd_value(v)}"' for k, v in fields.items())
    return f"[{sd_name(sd_id)} {params}]"


def format_message(
    record: LogRecord,
    *,
    facility: int,
    hostname: str,
    app_name: str,
    procid: str,
    msgid: str | None,
    sd_id: str | None,
) -> bytes:
    """``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [BOM MSG]`` as UTF-8."""
    pri = facility * 8 + SEVERITIES.get(record.level, 6)
    timestamp = record.time.isoformat(timespec="microseconds")
    fields = dict(record.fields)
    msg_id = msgid or str(fields.get("subsystem") or "")
    sd = structured_data(sd_id, fields) if sd_id else NILVALUE
    text = record.message + (f"\n{record.exception}" if record.exception else "")
    head = (
        f"<{pri}>1 {timestamp} {header_field(hostname, 255)} {header_field(app_name, 48)} "
        f"{header_field(procid, 128)} {header_field(msg_id, 32)} {sd}"
    )
    return f"{head} {BOM}{text}".encode()


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 section 3.4.1: ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(message)).encode() + b" " + message

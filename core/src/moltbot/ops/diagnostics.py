"""``moltbot diagnostics export``: one redacted archive to attach to a bug report.

Contents (under ``moltbot-diagnostics-<time>/``): ``doctor.json``, ``config.redacted.json``,
``versions.json`` (Python, platform, moltbot, plugins), ``logs/`` (the newest files under
``<state>/logs``, their last 2 MiB each) and ``README.txt``. Every member passes through
:class:`~moltbot.ops.redact.Scrubber`; the file is written 0600 via a temp file and a rename.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moltbot import __version__
from moltbot.ops.redact import Scrubber

MAX_LOG_FILES = 5
MAX_LOG_BYTES = 2 * 1024 * 1024


def recent_logs(log_dir: Path, limit: int = MAX_LOG_FILES) -> list[Path]:
    if not log_dir.is_dir():
        return []
    files = [p for p in log_dir.rglob("*") if p.is_file() and not p.is_symlink()]
    return sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


def _tail(path: Path, limit: int = MAX_LOG_BYTES) -> str:
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - limit))
        data = handle.read()
    if size > limit:
        data = data.split(b"\n", 1)[-1]  # drop the cut first line
    return data.decode("utf-8", errors="replace")


def versions(plugin_records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "moltbot": __version__,
        "python": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "plugins": plugin_records,
    }


def export_bundle(
    output: Path,
    *,
    doctor_report: dict[str, Any],
    raw_config: dict[str, Any],
    effective_config: dict[str, Any],
    plugin_records: list[dict[str, Any]],
    log_dir: Path,
    env: dict[str, str],
) -> list[str]:
    """Write the bundle to ``output``; returns the member names written."""
    scrub = Scrubber.from_sources([raw_config, effective_config], env)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"moltbot-diagnostics-{stamp}"
    members: dict[str, str] = {
        "doctor.json": json.dumps(scrub.value(doctor_report), indent=2, default=str),
        "config.redacted.json": json.dumps(scrub.value(raw_config), indent=2),
        "versions.json": json.dumps(scrub.value(versions(plugin_records)), indent=2),
    }
    for path in recent_logs(log_dir):
        with contextlib.suppress(OSError):
            members[f"logs/{path.relative_to(log_dir).as_posix()}"] = _tail(path)
    members["README.txt"] = (
        "moltbot diagnostics bundle. Secrets were replaced by <redacted>; review before sharing.\n"
        + "".join(f"  {name}\n" for name in members)
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, text in members.items():
                data = scrub.text(text).encode()
                info = tarfile.TarInfo(f"{base}/{name}")
                info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
                tar.addfile(info, io.BytesIO(data))
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return list(members)

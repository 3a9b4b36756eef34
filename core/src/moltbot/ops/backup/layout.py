"""Names, places and the manifest format shared by create, verify, restore and prune."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moltbot.errors import MoltbotError

FORMAT = "moltbot-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ROOTS = ("state", "config", "workspace")
PREFIX = "moltbot-backup-"
SUFFIX = ".tar.gz"
PARTIAL_PREFIX = f".{PREFIX}"
_NAME_RE = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}(?:\d{{6}})?Z)(?:-\d+)?\.tar\.gz$")


class BackupError(MoltbotError):
    """An archive is unusable or unsafe; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        detail = "".join(f"\n  - {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(message + detail + more)


@dataclass(frozen=True)
class Sources:
    """What to back up: the state dir, the config file, the workspace; ``exclude`` are skipped."""

    state: Path
    config: Path
    workspace: Path | None
    exclude: tuple[Path, ...] = field(default=())


def backup_dir(settings_dir: str | None, state_dir: Path) -> Path:
    return Path(settings_dir).expanduser() if settings_dir else state_dir / "backups"


def archive_name(when: datetime) -> str:
    return f"{PREFIX}{when.astimezone(UTC):%Y%m%dT%H%M%S%fZ}{SUFFIX}"


def created_at(path: Path) -> datetime:
    """From the name (written in UTC); the file's mtime when the name has no timestamp."""
    match = _NAME_RE.match(path.name)
    if match:
        stamp = match[1]
        fmt = "%Y%m%dT%H%M%S%fZ" if len(stamp) > 16 else "%Y%m%dT%H%M%SZ"
        return datetime.strptime(stamp, fmt).replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def list_archives(directory: Path) -> list[Path]:
    """Archives in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_file() and _NAME_RE.match(p.name)]
    return sorted(found, key=created_at)


def empty_manifest(created: datetime, version: str, hostname: str, roots: dict[str, str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "createdAt": created.isoformat(),
        "moltbotVersion": version,
        "hostname": hostname,
        "roots": roots,
        "entries": [],
        "skipped": [],
        "truncatedJsonl": [],
        "totalBytes": 0,
    }

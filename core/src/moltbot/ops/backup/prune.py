"""``backup prune``: keep the newest N archives, or drop those older than the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from moltbot.ops.backup.layout import created_at, list_archives


def prune(
    directory: Path,
    *,
    keep: int | None = None,
    retention_days: int = 30,
    now: datetime | None = None,
    dry_run: bool = False,
) -> list[Path]:
    """Delete (or with ``dry_run`` only list) archives beyond ``keep`` newest, or older than
    ``retention_days`` when ``keep`` is None. Only files named like our archives are touched."""
    archives = list_archives(directory)
    if keep is not None:
        doomed = archives[: max(0, len(archives) - keep)]
    else:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        doomed = [a for a in archives if created_at(a) < cutoff]
    if not dry_run:
        for path in doomed:
            path.unlink(missing_ok=True)
    return doomed

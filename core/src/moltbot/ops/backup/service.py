"""Scheduled backups inside the gateway: ``backup.schedule`` (cron, local time) then a prune by
``backup.retentionDays``. A failed run is logged and kept in ``status()``; the next scheduled
run retries (a backup problem never stops the gateway). Slots missed while a backup was
still running are skipped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import trio
from croniter import croniter
from loguru import logger

from moltbot.interfaces.service import Service
from moltbot.ops.backup.create import create_backup
from moltbot.ops.backup.layout import BackupError, Sources, backup_dir
from moltbot.ops.backup.prune import prune


class BackupService(Service):
    def __init__(
        self, app: Any, *, now: Callable[[], datetime] = lambda: datetime.now().astimezone()
    ) -> None:
        self.settings = app.settings.backup
        state = app.paths.state_dir
        self.directory = backup_dir(self.settings.dir, state)
        workspace = app.settings.agents.defaults.workspace or app.settings.agent.workspace
        self.sources = Sources(
            state=state,
            config=app.paths.config_path,
            workspace=Path(workspace).expanduser(),
            exclude=(self.directory,),
        )
        self.now = now
        self.last_backup: str | None = None
        self.last_error: str | None = None
        self.next_run: datetime | None = None
        self.runs = 0

    def backup_once(self) -> Path:
        path = create_backup(self.sources, self.directory)
        prune(self.directory, retention_days=self.settings.retention_days)
        return path

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        if not self.settings.schedule:
            await trio.sleep_forever()
        last = self.now()
        while True:
            # From the later of now and the last slot: slots missed during a long backup are
            # skipped, not run back to back.
            self.next_run = croniter(self.settings.schedule, max(last, self.now())).get_next(datetime)
            last = self.next_run
            await trio.sleep(max(0.0, (self.next_run - self.now()).total_seconds()))
            try:
                path = await trio.to_thread.run_sync(self.backup_once)
            except (OSError, BackupError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.error("scheduled backup failed (retrying at the next scheduled time): {}", exc)
                continue
            self.runs += 1
            self.last_backup, self.last_error = str(path), None
            logger.info("scheduled backup written to {}", path)

    def status(self) -> dict[str, Any]:
        return {
            "schedule": self.settings.schedule,
            "dir": str(self.directory),
            "runs": self.runs,
            "lastBackup": self.last_backup,
            "lastError": self.last_error,
            "nextRun": self.next_run.isoformat() if self.next_run else None,
        }

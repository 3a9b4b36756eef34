"""The scheduled backup service inside the gateway (virtual time; real archives)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trio
from trio.testing import MockClock

from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.errors import ConfigError
from moltbot.ops.backup import list_archives
from moltbot.ops.backup.service import BackupService
from moltbot.plugins import load_plugins


def _app(home: Path, backup: dict) -> App:
    env = {"MOLTBOT_STATE_DIR": str(home)}
    paths = resolve_paths(env)
    write_config(paths.config_path, {"backup": backup, "agent": {"workspace": str(home / "ws")}})
    plugins = load_plugins(entrypoints=False)
    return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)


BASE = datetime(2026, 1, 1, 12, 0, 30).astimezone()


def _virtual_now() -> datetime:
    """Wall time that follows trio's (virtual) clock, so cron times arrive on schedule."""
    return BASE + timedelta(seconds=trio.current_time())


@pytest.fixture
def patient_clock() -> MockClock:
    """Virtual time that jumps only after 10 ms of real idleness: backups run in a worker
    thread, and a clock that jumps at once would race past the deadline while it works."""
    return MockClock(autojump_threshold=0.01)


async def test_schedule_writes_archives(moltbot_home: Path, patient_clock):
    app = _app(moltbot_home, {"schedule": "* * * * *"})
    (moltbot_home / "agents").mkdir()
    (moltbot_home / "agents" / "s.jsonl").write_text('{"a": 1}\n')
    service = BackupService(app, now=_virtual_now)
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        with trio.fail_after(3600):
            while service.runs < 3:
                await trio.sleep(1)
        nursery.cancel_scope.cancel()
    assert service.runs == 3
    assert len(list_archives(moltbot_home / "backups")) == service.runs
    status = service.status()
    assert status["lastBackup"] and status["lastError"] is None and status["schedule"] == "* * * * *"


async def test_failure_is_reported_and_retried(moltbot_home: Path, patient_clock, tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    service = BackupService(
        _app(moltbot_home, {"schedule": "* * * * *", "dir": str(blocker)}), now=_virtual_now
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        await trio.sleep(200)
        nursery.cancel_scope.cancel()
    assert service.runs == 0 and "FileExistsError" in service.status()["lastError"]


async def test_without_schedule_it_idles(moltbot_home: Path, autojump_clock):
    service = BackupService(_app(moltbot_home, {}))
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        await trio.sleep(3600)
        nursery.cancel_scope.cancel()
    assert service.runs == 0 and service.status()["nextRun"] is None


def test_bad_cron_expression_is_a_config_error(moltbot_home: Path):
    with pytest.raises(ConfigError, match="cron"):
        _app(moltbot_home, {"schedule": "every day"})

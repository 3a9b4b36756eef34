"""The file sink: JSON lines, rotation at maxSize, retention and gzip under a fake clock."""

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trio
from moltbot_log_file.sink import FileSink, FileSinkConfig

from moltbot.config import Settings
from moltbot.testing import build_context
from moltbot.testing.conformance import LogSinkConformance, LogSinkHarness, sample_record


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make(tmp_path: Path, clock: FakeClock | None = None, **config: object) -> FileSink:
    settings = Settings.model_validate({"logging": {"retention": {"days": 2, "maxSize": "1KB"}}})
    return FileSink(
        FileSinkConfig.model_validate(config), build_context(tmp_path, "file", settings), clock=clock
    )


def lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return [json.loads(line) for line in handle]


class TestFileSinkConformance(LogSinkConformance):
    @pytest.fixture
    async def sink_harness(self, tmp_path):
        sink = make(tmp_path)

        async def received() -> list[str]:
            return [r["message"] for r in lines(sink.path)] if sink.path.exists() else []

        return LogSinkHarness(sink=sink, received=received)


def test_records_are_json_lines_with_fields(tmp_path) -> None:
    sink = make(tmp_path)
    sink.emit(sample_record("hello", session="s-1", subsystem="agents"))
    sink.close()
    [entry] = lines(tmp_path / "file" / "moltbot.jsonl")
    assert entry["message"] == "hello" and entry["session"] == "s-1" and entry["level"] == "INFO"
    assert (tmp_path / "file" / "moltbot.jsonl").stat().st_mode & 0o777 == 0o600


def test_rotates_at_max_size_and_deletes_old_files(tmp_path) -> None:
    clock = FakeClock()
    sink = make(tmp_path, clock)
    for day in range(4):
        for i in range(12):  # ~150 bytes each: rotates once the 1 KB file is full
            sink.emit(sample_record(f"day {day} record {i}"))
            clock.advance(minutes=1)
        clock.advance(days=1)
    sink.prune()  # what run() does hourly; rotation also prunes
    rotated = sink.rotated_files()
    assert sink.stats["rotations"] >= 4
    assert all(path.stat().st_size <= 1024 for _, path in rotated)
    # everything rotated more than 2 days before the clock's "now" is gone
    assert all(stamp >= clock.now - timedelta(days=2) for stamp, _ in rotated)
    assert sink.stats["deleted"] > 0
    kept = [r["message"] for _, p in rotated for r in lines(p)] + [r["message"] for r in lines(sink.path)]
    assert "day 3 record 11" in kept and "day 0 record 0" not in kept
    sink.close()


def test_a_reopened_sink_appends_and_respects_the_existing_size(tmp_path) -> None:
    sink = make(tmp_path)
    for i in range(5):
        sink.emit(sample_record(f"first run {i}"))
    sink.close()
    again = make(tmp_path)
    again.emit(sample_record("second run"))
    again.close()
    assert [r["message"] for r in lines(again.path)][-1] == "second run"
    assert len(lines(again.path)) + sum(len(lines(p)) for _, p in again.rotated_files()) == 6


async def test_rotated_files_are_gzipped_in_the_background(tmp_path) -> None:
    clock = FakeClock()
    sink = make(tmp_path, clock, compress=True)
    async with trio.open_nursery() as nursery:
        await nursery.start(sink.run)
        for i in range(20):
            sink.emit(sample_record(f"record {i}"))
            clock.advance(seconds=1)
        with trio.fail_after(10):
            while sink.stats["compressed"] < sink.stats["rotations"]:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    sink.close()
    rotated = sink.rotated_files()
    assert rotated and all(p.name.endswith(".jsonl.gz") for _, p in rotated)
    messages = [r["message"] for _, p in rotated for r in lines(p)] + [r["message"] for r in lines(sink.path)]
    assert messages == [f"record {i}" for i in range(20)]


def test_an_unwritable_directory_counts_failures_instead_of_raising(tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    sink = make(tmp_path, dir=str(blocker / "logs"))
    sink.emit(sample_record())
    assert sink.statistics()["failed"] == 1


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="size"):
        FileSinkConfig.model_validate({"maxSize": "lots"})
    with pytest.raises(ValueError):
        FileSinkConfig.model_validate({"filename": "../escape"})


def test_secrets_are_redacted_before_reaching_the_file(tmp_path) -> None:
    import moltbot_log_file
    from loguru import logger

    from moltbot.app import App
    from moltbot.config import Paths
    from moltbot.config.load import validate
    from moltbot.logs import configure_logging
    from moltbot.testing import make_plugins

    plugins = make_plugins(moltbot_log_file.moltbot_register_log_sinks)
    raw = {"logging": {"transports": [{"type": "file"}], "redactPatterns": [r"acct-\d+"]}}
    app = App(
        paths=Paths(tmp_path, tmp_path / "moltbot.json"), settings=validate(raw, plugins), plugins=plugins
    )
    handle = configure_logging(app, console=False)
    logger.bind(password="pw", session="s-2").info(
        "bot 123456789:AAH3kYz_abcdefghijklmnopqrstuvwxyz0 for acct-77"
    )
    handle.close()
    [entry] = lines(tmp_path / "logs" / "moltbot.jsonl")
    assert entry["message"] == "bot *** for ***"
    assert entry["password"] == "***" and entry["session"] == "s-2"

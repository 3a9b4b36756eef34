"""Crash recovery with real processes: a writer is SIGKILLed mid-append, then the store loads."""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moltbot.errors import BusyError
from moltbot.sessions.index import INDEX_FILE
from moltbot.sessions.locking import describe_holder, pid_lock

from .helpers import open_store

WRITER = Path(__file__).with_name("writer_proc.py")
KEY = "agent:main:telegram:dm:42"
pytestmark = pytest.mark.slow


def start_writer(*args: str, limit_bytes: int | None = None) -> subprocess.Popen[str]:
    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.stdout is not None
    proc.stdout.close()


def contents(session) -> list[int]:
    return [int(e["content"].split(":", 1)[0]) for e in session.entries if e["type"] == "message"]


@pytest.mark.parametrize("round_", range(4))
async def test_sigkill_mid_append_keeps_every_acknowledged_entry(tmp_path, round_):
    """4 MB entries and a kill at a random point of an append's duration: the kill lands
    inside write() (a torn line) or fsync() or between appends; every outcome must load."""
    directory = tmp_path / "sessions"
    proc = start_writer("loop", str(directory), "4000000")
    assert proc.stdout is not None
    acknowledged = [int(proc.stdout.readline()) for _ in range(3)]
    started = time.monotonic()
    acknowledged += [int(proc.stdout.readline()) for _ in range(2)]
    per_append = (time.monotonic() - started) / 2
    time.sleep(random.Random(round_).uniform(0, per_append))
    kill(proc)

    transcript = next(directory.glob("*.jsonl"))
    raw = transcript.read_bytes()
    complete = raw[: raw.rindex(b"\n") + 1]

    store = await open_store(directory)
    session = await store.get(KEY)
    assert session is not None
    got = contents(session)
    assert got == list(range(len(got)))  # complete entries, in order, no gaps
    assert set(acknowledged) <= set(got)
    assert transcript.read_bytes() == complete
    side = transcript.with_name(transcript.name + ".torn")
    if raw != complete:  # the kill tore a line: it was set aside, byte for byte
        assert side.read_bytes() == raw[len(complete) :] + b"\n"
    else:
        assert not side.exists()
    assert store.meta(KEY).message_count == len(got)


async def test_short_write_then_sigkill_leaves_a_torn_line_that_is_set_aside(tmp_path):
    """RLIMIT_FSIZE cuts an append short exactly like a full disk; then the writer is killed."""
    directory = tmp_path / "sessions"
    proc = start_writer("loop", str(directory), "3000", limit_bytes=40_000)
    assert proc.stdout is not None
    lines = []
    while not (line := proc.stdout.readline()).startswith("failed"):
        lines.append(int(line))
    kill(proc)
    transcript = next(directory.glob("*.jsonl"))
    raw = transcript.read_bytes()
    assert len(raw) == 40_000 and not raw.endswith(b"\n")  # a genuinely torn last line

    store = await open_store(directory)
    session = await store.get(KEY)
    assert contents(session) == lines
    side = transcript.with_name(transcript.name + ".torn")
    assert side.read_bytes() == raw[raw.rindex(b"\n") + 1 :] + b"\n"
    assert transcript.read_bytes() == raw[: raw.rindex(b"\n") + 1]

    # the session goes on normally, chained to the last complete entry
    (stored,) = await session.append({"type": "message", "role": "user", "content": "after"})
    assert stored["parentId"] == session.entries[-2]["id"]
    reopened = await (await open_store(directory)).get(KEY)
    assert reopened.entries[-1]["content"] == "after"
    reopened.entries.pop()
    assert contents(reopened) == lines


async def test_locks_of_a_killed_process_never_block(tmp_path):
    directory = tmp_path / "sessions"
    proc = start_writer("hold", str(directory))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    lock_file = directory / (INDEX_FILE + ".lock")
    assert describe_holder(lock_file) == f"pid {proc.pid} (alive)"
    with pytest.raises(BusyError, match=f"pid {proc.pid}"), pid_lock(lock_file, timeout=0.2):
        pass

    kill(proc)
    assert lock_file.read_text().split()[0] == str(proc.pid)  # the stale lock file is still there
    assert describe_holder(lock_file) == f"pid {proc.pid} (dead)"
    store = await open_store(directory)
    session = await store.get(KEY)
    await session.append({"type": "message", "role": "user", "content": "not blocked"})
    await store.flush()
    assert lock_file.read_text().split()[0] == str(os.getpid())

"""Running commands as process groups: foreground with a deadline, or in the background.

Every command starts in a new session (``start_new_session``), so its process group holds its
children too; a timeout, an abort or the end of a foreground command kills the whole group with
SIGKILL. Background processes are watched by a trio system task that enforces their timeout,
collects output and gives the process slot back when they end.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import trio
from loguru import logger

from moltbot_exec.output import OutputBuffer

DRAIN_SECONDS = 1.0
"""How long output is still read after the command ended (a detached child may hold the pipe)."""


def kill_group(process: trio.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _pump(stream: trio.abc.ReceiveStream, output: OutputBuffer, done: trio.Event) -> None:
    try:
        while chunk := await stream.receive_some(65536):
            output.write(chunk)
    except (trio.ClosedResourceError, trio.BrokenResourceError):
        pass
    finally:
        done.set()


async def _supervise(process: trio.Process, output: OutputBuffer, timeout: float) -> bool:
    """Collect output until exit or ``timeout``; kill the group either way. True if timed out."""
    assert process.stdout is not None
    drained = trio.Event()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_pump, process.stdout, output, drained)
            with trio.move_on_after(timeout) as deadline:
                await process.wait()
            kill_group(process)
            await process.wait()
            with trio.move_on_after(DRAIN_SECONDS):
                await drained.wait()
            nursery.cancel_scope.cancel()
        return deadline.cancelled_caught
    finally:
        with trio.CancelScope(shield=True):
            kill_group(process)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    await stream.aclose()
            await process.wait()


async def _spawn(argv: list[str], *, cwd: Path, env: dict[str, str], stdin: int) -> trio.Process:
    return await trio.lowlevel.open_process(
        argv,
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@dataclass
class Outcome:
    exit_code: int
    timed_out: bool
    output: OutputBuffer
    pid: int


async def run_foreground(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, max_output: int
) -> Outcome:
    output = OutputBuffer(max_output)
    process = await _spawn(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
    timed_out = await _supervise(process, output, timeout)
    assert process.returncode is not None
    return Outcome(process.returncode, timed_out, output, process.pid)


@dataclass
class BackgroundProcess:
    id: str
    session_key: str
    command: str
    process: trio.Process
    output: OutputBuffer
    started_at: float = field(default_factory=time.time)
    timed_out: bool = False
    killed: bool = False
    read_offset: int = 0
    ended: trio.Event = field(default_factory=trio.Event)

    @property
    def status(self) -> str:
        if not self.ended.is_set():
            return "running"
        if self.timed_out:
            return "timed out (killed)"
        if self.killed:
            return "killed"
        return f"exited with code {self.process.returncode}"


class ProcessTable:
    """The commands of one gateway: a limit on how many run at once and the background ones."""

    def __init__(self, max_processes: int) -> None:
        self.limiter = trio.CapacityLimiter(max_processes)
        self.background: dict[str, BackgroundProcess] = {}
        self._ids = itertools.count(1)

    @property
    def running(self) -> int:
        return int(self.limiter.borrowed_tokens)

    async def run(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, max_output: int
    ) -> Outcome:
        async with self.limiter:
            return await run_foreground(argv, cwd=cwd, env=env, timeout=timeout, max_output=max_output)

    async def start(
        self,
        argv: list[str],
        *,
        session_key: str,
        command: str,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        max_output: int,
    ) -> BackgroundProcess:
        token = object()
        await self.limiter.acquire_on_behalf_of(token)
        try:
            process = await _spawn(argv, cwd=cwd, env=env, stdin=subprocess.PIPE)
        except BaseException:
            self.limiter.release_on_behalf_of(token)
            raise
        entry = BackgroundProcess(
            id=f"p{next(self._ids)}",
            session_key=session_key,
            command=command,
            process=process,
            output=OutputBuffer(max_output),
        )
        self.background[entry.id] = entry
        trio.lowlevel.spawn_system_task(self._watch, entry, timeout, token, name=f"exec-{entry.id}")
        return entry

    async def _watch(self, entry: BackgroundProcess, timeout: float, token: object) -> None:
        try:
            entry.timed_out = await _supervise(entry.process, entry.output, timeout)
        except trio.Cancelled:
            raise
        except Exception as exc:
            logger.opt(exception=exc).error("watching background process {} failed", entry.id)
        finally:
            self.limiter.release_on_behalf_of(token)
            entry.ended.set()

    def of_session(self, session_key: str) -> list[BackgroundProcess]:
        return [p for p in self.background.values() if p.session_key == session_key]

    def get(self, session_key: str, process_id: str) -> BackgroundProcess | None:
        entry = self.background.get(process_id)
        return entry if entry is not None and entry.session_key == session_key else None

    async def kill(self, entry: BackgroundProcess) -> None:
        entry.killed = True
        kill_group(entry.process)
        await entry.ended.wait()

"""The ``exec`` and ``process`` tools."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, ClassVar, Literal

import trio
from pydantic import BaseModel, ConfigDict, Field

from moltbot.interfaces.tool import Tool, ToolContext, ToolError, ToolResult
from moltbot.specs import BuildContext
from moltbot.tools.paths import display, resolve_path
from moltbot_exec.approval import authorize
from moltbot_exec.env import scrub_env
from moltbot_exec.runner import ProcessTable
from moltbot_exec.sandbox import bwrap_argv, find_bwrap

_TABLES: dict[Path, ProcessTable] = {}


def shared_table(ctx: BuildContext) -> ProcessTable:
    """One table per state directory, so ``exec`` and ``process`` see the same processes."""
    key = ctx.state_dir.parent.resolve()
    if key not in _TABLES:
        _TABLES[key] = ProcessTable(ctx.settings.performance.tools.exec.max_processes)
    return _TABLES[key]


def with_note(text: str, note: str) -> str:
    """Output followed by a bracketed status line."""
    return f"{text}\n{note}" if text and not text.endswith("\n") else f"{text}{note}"


def _shell() -> list[str]:
    bash = shutil.which("bash", path="/usr/bin:/bin")
    return [bash, "--noprofile", "--norc", "-c"] if bash else ["/bin/sh", "-c"]


class ExecParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(min_length=1, description="Shell command line (bash)")
    workdir: str | None = Field(None, description="Directory to run in, relative to the workspace")
    timeout: float | None = Field(None, gt=0, description="Seconds before the command is killed")
    background: bool = Field(False, description="Start it and return at once; manage it with `process`")


class ExecTool(Tool):
    name = "exec"
    description = (
        "Run a shell command in the workspace and return its output (stdout and stderr together) and"
        " exit code. Long-running commands: set background=true and use the process tool."
    )
    parameters = ExecParams
    group: ClassVar[str | None] = "group:runtime"

    def __init__(self, config: object, ctx: BuildContext, *, table: ProcessTable | None = None) -> None:
        self.config = ctx.settings.tools.exec
        self.performance = ctx.settings.performance.tools.exec
        self.table = table or shared_table(ctx)

    async def run(self, ctx: ToolContext, params: ExecParams) -> ToolResult:
        cwd = resolve_path(ctx, params.workdir or ".")
        if not cwd.is_dir():
            raise ToolError(f"workdir {params.workdir} is not a directory")
        limit = self.performance.timeout / 1000
        timeout = min(params.timeout or limit, limit)
        argv, env = self._command(ctx, params.command, cwd)
        await authorize(ctx, self.config, params.command, display(ctx, cwd))
        if params.background:
            entry = await self.table.start(
                argv,
                session_key=ctx.session_key,
                command=params.command,
                cwd=cwd,
                env=env,
                timeout=timeout,
                max_output=self.config.max_output_bytes,
            )
            return ToolResult(
                text=f"started {entry.id} (pid {entry.process.pid}); it is killed after {timeout:g}s."
                f" Use process with action=poll and id={entry.id} for its output."
            )
        outcome = await self.table.run(
            argv, cwd=cwd, env=env, timeout=timeout, max_output=self.config.max_output_bytes
        )
        text = outcome.output.text()
        if outcome.timed_out:
            return ToolResult(
                text=with_note(
                    text, f"[timed out after {timeout:g}s; the command and its children were killed]"
                ),
                is_error=True,
            )
        return ToolResult(text=with_note(text, f"[exit code {outcome.exit_code}]"))

    def _command(self, ctx: ToolContext, command: str, cwd: Path) -> tuple[list[str], dict[str, str]]:
        env = scrub_env(os.environ, self.config.pass_env)
        argv = [*_shell(), command]
        if not ctx.sandboxed:
            return argv, {**env, "PWD": str(cwd)}
        if not self.performance.sandbox:
            raise ToolError("this session is sandboxed and performance.tools.exec.sandbox is false; not run")
        workspace = Path(os.path.realpath(ctx.workspace))
        bwrap = find_bwrap()
        return (
            bwrap_argv(
                bwrap,
                workspace=workspace,
                cwd=cwd,
                env=env,
                network=self.config.sandbox_network,
                argv=argv,
            ),
            {"PATH": env["PATH"]},
        )


class ProcessParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["list", "poll", "write", "kill"]
    id: str | None = Field(None, description="Process id from exec (poll, write, kill)")
    data: str | None = Field(None, description="Text to write to the process's stdin (write)")
    eof: bool = Field(False, description="Close stdin after writing (write)")


class ProcessTool(Tool):
    name = "process"
    description = (
        "Manage background commands started by exec: list them, poll new output and status, write"
        " to stdin, or kill one (with all its children)."
    )
    parameters = ProcessParams
    group: ClassVar[str | None] = "group:runtime"

    def __init__(self, config: object, ctx: BuildContext, *, table: ProcessTable | None = None) -> None:
        self.table = table or shared_table(ctx)

    async def run(self, ctx: ToolContext, params: ProcessParams) -> str:
        if params.action == "list":
            entries = self.table.of_session(ctx.session_key)
            if not entries:
                return "no background processes"
            return "\n".join(f"{e.id}  {e.status}  {e.command}" for e in entries)
        if not params.id:
            raise ToolError(f"action {params.action} needs an id (see action=list)")
        entry = self.table.get(ctx.session_key, params.id)
        if entry is None:
            raise ToolError(f"no background process {params.id} in this session")
        if params.action == "kill":
            if not entry.ended.is_set():
                await self.table.kill(entry)
            return f"{entry.id}: {entry.status}"
        if params.action == "write":
            return await self._write(entry, params)
        await trio.lowlevel.checkpoint()
        text, entry.read_offset, _dropped = entry.output.read_since(entry.read_offset)
        return with_note(text, f"[{entry.id}: {entry.status}]")

    async def _write(self, entry: Any, params: ProcessParams) -> str:
        stdin = entry.process.stdin
        if entry.ended.is_set() or stdin is None:
            raise ToolError(f"{entry.id} has ended; nothing can be written")
        try:
            with trio.fail_after(5):
                if params.data:
                    await stdin.send_all(params.data.encode())
                if params.eof:
                    await stdin.aclose()
        except trio.TooSlowError:
            raise ToolError(f"{entry.id} is not reading its input (waited 5s)") from None
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ToolError(f"{entry.id} no longer accepts input") from None
        return f"wrote {len((params.data or '').encode())} bytes to {entry.id}" + (
            " and closed stdin" if params.eof else ""
        )

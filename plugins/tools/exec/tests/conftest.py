"""Builders for exec tests: tools over a fresh process table, contexts, and process checks."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from moltbot_exec.runner import ProcessTable
from moltbot_exec.tools import ExecTool, ProcessTool

from moltbot.config import Settings
from moltbot.interfaces.tool import ToolContext
from moltbot.testing import build_context


def gone(pid: int) -> bool:
    """The process no longer runs (a zombie waiting for a reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def alive_with(marker: str) -> list[int]:
    """Pids of running (non-zombie) processes whose command line contains ``marker``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(proc.info["cmdline"] or ()):
            found.append(proc.pid)
    return found


@pytest.fixture
def procs() -> Any:
    """``procs.gone(pid)`` and ``procs.alive_with(marker)``."""
    import types

    return types.SimpleNamespace(gone=gone, alive_with=alive_with)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def make_tools(tmp_path: Path) -> Callable[..., tuple[ExecTool, ProcessTool]]:
    def make(config: dict[str, Any] | None = None, max_processes: int = 4) -> tuple[ExecTool, ProcessTool]:
        settings = Settings.model_validate(
            {"tools": {"exec": {"security": "full"}}} if config is None else config
        )
        table = ProcessTable(max_processes)
        ctx = build_context(tmp_path, "exec", settings)
        return ExecTool(None, ctx, table=table), ProcessTool(None, ctx, table=table)

    return make


@pytest.fixture
def host(workspace: Path) -> ToolContext:
    return ToolContext(session_key="agent:main:main", agent_id="main", workspace=workspace, sandboxed=False)


@pytest.fixture
def sandboxed(workspace: Path) -> ToolContext:
    return ToolContext(session_key="agent:main:group:7", agent_id="main", workspace=workspace, sandboxed=True)

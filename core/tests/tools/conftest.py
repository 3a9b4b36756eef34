"""Shared fixtures for the core tool tests: a workspace and contexts on both sides of the sandbox."""

from pathlib import Path

import pytest

from moltbot.interfaces.tool import ToolContext


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def sandboxed(workspace: Path) -> ToolContext:
    return ToolContext(session_key="agent:main:group:1", agent_id="main", workspace=workspace, sandboxed=True)


@pytest.fixture
def host(workspace: Path) -> ToolContext:
    return ToolContext(session_key="agent:main:main", agent_id="main", workspace=workspace, sandboxed=False)

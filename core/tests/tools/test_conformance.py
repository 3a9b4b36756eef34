"""Every core tool passes the tool conformance suite, in a sandboxed session."""

from pathlib import Path

import pytest

from moltbot.testing.conformance import ToolConformance
from moltbot.tools.fs import EditTool, ReadTool, WriteTool
from moltbot.tools.patch import ApplyPatchTool


class _Base(ToolConformance):
    @pytest.fixture
    def tool_context(self, sandboxed):
        (sandboxed.workspace / "notes.txt").write_text("alpha\nbeta\n")
        return sandboxed


class TestRead(_Base):
    tool = pytest.fixture(lambda self: ReadTool())
    valid_params = pytest.fixture(lambda self: {"path": "notes.txt"})
    invalid_params = pytest.fixture(lambda self: {"path": "notes.txt", "offset": 0})


class TestWrite(_Base):
    tool = pytest.fixture(lambda self: WriteTool())
    valid_params = pytest.fixture(lambda self: {"path": "out/new.txt", "content": "hi\n"})
    invalid_params = pytest.fixture(lambda self: {"path": "x.txt"})


class TestEdit(_Base):
    @pytest.fixture
    def tool_context(self, sandboxed):
        (sandboxed.workspace / "notes.txt").write_text("alpha\nbeta\n")
        return sandboxed

    tool = pytest.fixture(lambda self: EditTool())
    valid_params = pytest.fixture(lambda self: {"path": "notes.txt", "old_text": "beta", "new_text": "gamma"})
    invalid_params = pytest.fixture(lambda self: {"path": "notes.txt", "old_text": "", "new_text": "x"})

    async def test_the_edit_happened(self, tool, tool_context, valid_params):
        from moltbot.tools import invoke_tool

        await invoke_tool(tool, tool_context, valid_params)
        assert Path(tool_context.workspace / "notes.txt").read_text() == "alpha\ngamma\n"


class TestApplyPatch(_Base):
    tool = pytest.fixture(lambda self: ApplyPatchTool())
    valid_params = pytest.fixture(
        lambda self: {"patch": "*** Begin Patch\n*** Add File: added.txt\n+hello\n*** End Patch\n"}
    )
    invalid_params = pytest.fixture(lambda self: {"patch": 5})

"""read/write/edit behaviour, and every way out of the workspace a sandboxed session might try."""

import os
from pathlib import Path

import pytest

from moltbot.config import Settings
from moltbot.testing import build_context
from moltbot.tools import invoke_tool
from moltbot.tools.fs import EditTool, ReadTool, WriteTool
from moltbot.tools.patch import ApplyPatchTool


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n")
    return secret


async def read(ctx, path, **extra):
    return await invoke_tool(ReadTool(), ctx, {"path": path, **extra})


async def test_read_returns_the_text(sandboxed):
    (sandboxed.workspace / "a.txt").write_text("one\ntwo\nthree\n")
    result = await read(sandboxed, "a.txt")
    assert result.text == "one\ntwo\nthree\n" and not result.is_error


async def test_read_a_line_range_says_how_to_continue(sandboxed):
    (sandboxed.workspace / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    result = await read(sandboxed, "a.txt", offset=3, limit=2)
    assert result.text.startswith("line 3\nline 4\n")
    assert "showing lines 3-4 of 10; continue with offset=5" in result.text


async def test_read_is_capped_and_says_so(tmp_path, sandboxed):
    settings = Settings.model_validate({"tools": {"maxReadBytes": 2048}})
    tool = ReadTool(None, build_context(tmp_path, "read", settings))
    (sandboxed.workspace / "big.txt").write_text("x" * 99 + "\n" + "y" * 5000)
    result = await invoke_tool(tool, sandboxed, {"path": "big.txt"})
    assert "[truncated: the file has 5100 bytes" in result.text
    assert len(result.text) < 2300


async def test_binary_files_are_detected(sandboxed):
    (sandboxed.workspace / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (sandboxed.workspace / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    assert "binary file" in (await read(sandboxed, "img.png")).text
    result = await read(sandboxed, "latin1.txt")
    assert result.is_error and "not UTF-8" in result.text


async def test_missing_file_and_directory_are_clear(sandboxed):
    (sandboxed.workspace / "d").mkdir()
    assert "no such file" in (await read(sandboxed, "nope.txt")).text
    assert "is a directory" in (await read(sandboxed, "d")).text


@pytest.mark.parametrize("tool", ["read", "write", "edit"])
@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../secret.txt", "'..' is not allowed"),
        ("sub/../../secret.txt", "'..' is not allowed"),
        ("{outside}", "absolute paths are not allowed"),
        ("link.txt", "outside the workspace"),
        ("linkdir/secret.txt", "outside the workspace"),
        ("hard.txt", "hard links"),
        ("/proc/self/environ", "absolute paths are not allowed"),
        ("proc/self/environ", "off limits"),
    ],
)
async def test_sandboxed_paths_cannot_escape(sandboxed, outside, tool, path, why):
    ws = sandboxed.workspace
    (ws / "link.txt").symlink_to(outside)
    (ws / "linkdir").symlink_to(outside.parent)
    (ws / "proc").symlink_to("/proc")
    os.link(outside, ws / "hard.txt")
    args = {
        "read": {},
        "write": {"content": "pwned"},
        "edit": {"old_text": "TOP", "new_text": "pwned"},
    }[tool]
    tools = {"read": ReadTool(), "write": WriteTool(), "edit": EditTool()}
    result = await invoke_tool(tools[tool], sandboxed, {"path": path.format(outside=outside), **args})
    assert result.is_error and why in result.text, result.text
    assert outside.read_text() == "TOP SECRET\n"


async def test_host_sessions_may_use_absolute_paths_but_never_proc(host, outside):
    assert (await read(host, str(outside))).text == "TOP SECRET\n"
    result = await read(host, "/proc/self/environ")
    assert result.is_error and "/proc is off limits" in result.text


async def test_symlinks_inside_the_workspace_are_fine(sandboxed):
    (sandboxed.workspace / "real.txt").write_text("inside\n")
    (sandboxed.workspace / "alias.txt").symlink_to("real.txt")
    assert (await read(sandboxed, "alias.txt")).text == "inside\n"


async def test_write_replaces_a_hard_link_in_host_sessions_without_touching_the_other_name(host, outside):
    os.link(outside, host.workspace / "hard.txt")
    result = await invoke_tool(WriteTool(), host, {"path": "hard.txt", "content": "new\n"})
    assert not result.is_error
    assert outside.read_text() == "TOP SECRET\n"
    assert (host.workspace / "hard.txt").read_text() == "new\n"


async def test_write_is_capped(tmp_path, sandboxed):
    settings = Settings.model_validate({"tools": {"maxWriteBytes": 1024}})
    tool = WriteTool(None, build_context(tmp_path, "write", settings))
    result = await invoke_tool(tool, sandboxed, {"path": "big.txt", "content": "x" * 2000})
    assert result.is_error and "limit is 1024" in result.text
    assert not (sandboxed.workspace / "big.txt").exists()


async def test_write_keeps_the_file_mode(sandboxed):
    script = sandboxed.workspace / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    await invoke_tool(WriteTool(), sandboxed, {"path": "run.sh", "content": "new"})
    assert script.read_text() == "new" and script.stat().st_mode & 0o777 == 0o755


async def test_edit_must_match_exactly_once(sandboxed):
    target = sandboxed.workspace / "f.py"
    target.write_text("x = 1\nx = 1\ny = 2\n")
    edit = EditTool()
    missing = await invoke_tool(edit, sandboxed, {"path": "f.py", "old_text": "z = 3", "new_text": "q"})
    assert missing.is_error and "not found" in missing.text
    twice = await invoke_tool(edit, sandboxed, {"path": "f.py", "old_text": "x = 1", "new_text": "q"})
    assert twice.is_error and "occurs 2 times" in twice.text
    assert target.read_text() == "x = 1\nx = 1\ny = 2\n"
    once = await invoke_tool(edit, sandboxed, {"path": "f.py", "old_text": "y = 2", "new_text": "y = 3"})
    assert once.text == "edited f.py at line 3" and target.read_text().endswith("y = 3\n")


async def test_patch_cannot_escape_either(sandboxed, outside):
    patch = f"*** Begin Patch\n*** Delete File: {outside}\n*** End Patch"
    result = await invoke_tool(ApplyPatchTool(), sandboxed, {"patch": patch})
    assert result.is_error and "absolute paths" in result.text and outside.exists()

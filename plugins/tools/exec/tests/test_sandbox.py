"""Sandboxed sessions: commands run in bubblewrap, cannot write outside the workspace or reach
the network, die entirely on timeout, and are refused (not run unsandboxed) without bwrap."""

import shutil
from pathlib import Path

import pytest
import trio

from moltbot.tools import invoke_tool

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


async def test_writes_stay_inside_the_workspace(make_tools, sandboxed, workspace, tmp_path):
    exec_tool, _ = make_tools()
    outside = tmp_path / "outside.txt"
    command = (
        f"echo x > {outside}; echo $?; echo y > /tmp/escape-test; touch /usr/escape 2>&1;"
        f" echo inside > made.txt; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $HOME"
    )
    result = await invoke_tool(exec_tool, sandboxed, {"command": command})
    assert not outside.exists()
    assert not Path("/tmp/escape-test").exists() and not Path("/usr/escape").exists()
    assert (workspace / "made.txt").read_text() == "inside\n"
    assert "Read-only file system" in result.text
    assert "bwrap" in result.text or "bash" in result.text  # PID 1 is the sandbox's own
    assert str(workspace) in result.text


async def test_no_network_unless_configured(make_tools, sandboxed, host):
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    probe = {"command": f"(echo hi > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo REACHED || echo BLOCKED"}
    with listener:
        exec_tool, _ = make_tools()
        assert "REACHED" in (await invoke_tool(exec_tool, host, probe)).text  # the probe works
        assert "BLOCKED" in (await invoke_tool(exec_tool, sandboxed, probe)).text
        networked, _ = make_tools({"tools": {"exec": {"security": "full", "sandboxNetwork": True}}})
        assert "REACHED" in (await invoke_tool(networked, sandboxed, probe)).text


async def test_timeout_kills_everything_in_the_sandbox(make_tools, sandboxed, procs):
    exec_tool, _ = make_tools()
    command = "bash -c 'sleep 311 & wait' & sleep 312 & wait"
    result = await invoke_tool(exec_tool, sandboxed, {"command": command, "timeout": 0.5})
    assert result.is_error and "timed out" in result.text
    with trio.fail_after(5):
        while procs.alive_with("sleep 311") or procs.alive_with("sleep 312"):
            await trio.sleep(0.02)


async def test_no_capabilities_inside_even_as_root(make_tools, sandboxed):
    exec_tool, _ = make_tools()
    result = await invoke_tool(exec_tool, sandboxed, {"command": "grep CapEff /proc/self/status"})
    assert "CapEff:\t0000000000000000" in result.text


async def test_the_environment_inside_is_scrubbed(make_tools, sandboxed, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("LD_PRELOAD", "/nonexistent/evil.so")
    exec_tool, _ = make_tools()
    result = await invoke_tool(exec_tool, sandboxed, {"command": "env"})
    assert "sk-ant-secret" not in result.text and "LD_PRELOAD" not in result.text
    assert "PATH=/usr/local/bin:/usr/bin:/bin" in result.text


async def test_missing_bwrap_is_a_clear_refusal(make_tools, sandboxed, workspace, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    exec_tool, _ = make_tools()
    result = await invoke_tool(exec_tool, sandboxed, {"command": "touch ran.txt"})
    assert result.is_error
    assert "`bwrap` was not found" in result.text and "bubblewrap" in result.text and "NOT run" in result.text
    assert not (workspace / "ran.txt").exists()


async def test_sandbox_false_refuses_sandboxed_sessions(make_tools, sandboxed, workspace):
    config = {"tools": {"exec": {"security": "full"}}, "performance": {"tools": {"exec": {"sandbox": False}}}}
    exec_tool, _ = make_tools(config)
    result = await invoke_tool(exec_tool, sandboxed, {"command": "touch ran.txt"})
    assert result.is_error and "performance.tools.exec.sandbox is false" in result.text
    assert not (workspace / "ran.txt").exists()

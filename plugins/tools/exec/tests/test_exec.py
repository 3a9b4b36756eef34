"""exec on real processes: output, caps, timeouts and aborts that kill the whole tree, the
process limit, and the scrubbed environment (read from /proc/<pid>/environ of a real child)."""

from pathlib import Path

import trio

from moltbot.tools import invoke_tool


async def test_output_and_exit_code(make_tools, host):
    exec_tool, _ = make_tools()
    result = await invoke_tool(exec_tool, host, {"command": "echo out; echo err >&2; exit 3"})
    assert result.text == "out\nerr\n[exit code 3]" and not result.is_error


async def test_runs_in_the_workspace_or_a_workdir_inside_it(make_tools, host, workspace):
    exec_tool, _ = make_tools()
    (workspace / "sub").mkdir()
    assert (await invoke_tool(exec_tool, host, {"command": "pwd"})).text.startswith(str(workspace))
    result = await invoke_tool(exec_tool, host, {"command": "pwd", "workdir": "sub"})
    assert result.text.startswith(str(workspace / "sub"))
    bad = await invoke_tool(exec_tool, host, {"command": "pwd", "workdir": "missing"})
    assert bad.is_error and "not a directory" in bad.text


async def test_output_is_capped_visibly(make_tools, host):
    exec_tool, _ = make_tools({"tools": {"exec": {"security": "full", "maxOutputBytes": 2048}}})
    result = await invoke_tool(exec_tool, host, {"command": "seq 1 100000"})
    assert result.text.startswith("1\n2\n3\n")
    assert "bytes of output omitted ...]" in result.text
    assert result.text.endswith("99999\n100000\n[exit code 0]")
    assert len(result.text) < 2200


async def test_timeout_kills_children_and_grandchildren(make_tools, host, workspace, procs):
    exec_tool, _ = make_tools()
    command = "bash -c 'sleep 301 & echo $! > grandchild.pid; wait' & echo $! > child.pid; wait"
    result = await invoke_tool(exec_tool, host, {"command": command, "timeout": 0.5})
    assert result.is_error and "timed out after 0.5s" in result.text
    with trio.fail_after(5):
        while not all(procs.gone(int((workspace / f).read_text())) for f in ("child.pid", "grandchild.pid")):
            await trio.sleep(0.02)
    assert not procs.alive_with("sleep 301")


async def test_background_children_of_a_finished_command_are_killed(make_tools, host, workspace, procs):
    exec_tool, _ = make_tools()
    result = await invoke_tool(exec_tool, host, {"command": "sleep 302 & echo $! > left.pid"})
    assert result.text == "[exit code 0]"
    with trio.fail_after(5):
        while not procs.gone(int((workspace / "left.pid").read_text())):
            await trio.sleep(0.02)


async def test_aborting_the_call_kills_the_tree(make_tools, host, workspace, procs):
    exec_tool, _ = make_tools()
    pid_file = workspace / "gc.pid"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(invoke_tool, exec_tool, host, {"command": "sleep 303 & echo $! > gc.pid; wait"})
        with trio.fail_after(5):
            while not pid_file.exists() or not pid_file.read_text().strip():
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    with trio.fail_after(5):
        while not procs.gone(int(pid_file.read_text())):
            await trio.sleep(0.02)


async def test_the_process_limit_holds_under_20_concurrent_calls(make_tools, host, workspace):
    exec_tool, _ = make_tools(max_processes=3)
    log = workspace / "log"
    command = "echo start >> log; sleep 0.15; echo end >> log"
    peak = 0
    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(invoke_tool, exec_tool, host, {"command": command})

        async def watch() -> None:
            nonlocal peak
            while True:
                lines = log.read_text().split() if log.exists() else []
                peak = max(peak, lines.count("start") - lines.count("end"))
                await trio.sleep(0.005)

        nursery.start_soon(watch)
        with trio.fail_after(20):
            while not log.exists() or log.read_text().split().count("end") < 20:
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    assert peak == 3  # reached, never exceeded
    assert exec_tool.table.running == 0


async def test_the_child_environment_is_scrubbed(make_tools, host, workspace, monkeypatch, tmp_path):
    hook = tmp_path / "hook.sh"
    hook.write_text("echo INJECTED\n")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("MOLTBOT_GATEWAY_TOKEN", "gateway-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    monkeypatch.setenv("BASH_ENV", str(hook))
    monkeypatch.setenv("ENV", str(hook))
    monkeypatch.setenv("ZDOTDIR", str(tmp_path))
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path))
    monkeypatch.setenv("PYTHONSTARTUP", str(hook))
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    (workspace / ".env").write_text("OPENCLAW_GATEWAY_URL=ws://evil\nFROM_DOTENV=1\n")
    exec_tool, process_tool = make_tools({"tools": {"exec": {"security": "full", "passEnv": ["EXTRA_OK"]}}})
    monkeypatch.setenv("EXTRA_OK", "yes")
    started = await invoke_tool(exec_tool, host, {"command": "exec sleep 304", "background": True})
    entry = exec_tool.table.background["p1"]
    assert str(entry.process.pid) in started.text
    proc_dir = Path(f"/proc/{entry.process.pid}")
    with trio.fail_after(5):  # until execve: a forked child still shows our own environment
        while b"sleep" not in (proc_dir / "cmdline").read_bytes():
            await trio.sleep(0.01)
    environ = (proc_dir / "environ").read_bytes().split(b"\0")
    names = {item.split(b"=", 1)[0].decode() for item in environ if item}
    await invoke_tool(process_tool, host, {"action": "kill", "id": "p1"})
    assert {"PATH", "LC_ALL", "EXTRA_OK"} <= names
    forbidden = {
        "OPENAI_API_KEY",
        "MOLTBOT_GATEWAY_TOKEN",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "BASH_ENV",
    }
    forbidden |= {"ENV", "ZDOTDIR", "LD_LIBRARY_PATH", "PYTHONSTARTUP", "OPENCLAW_GATEWAY_URL", "FROM_DOTENV"}
    assert not names & forbidden
    assert all(b"secret" not in item for item in environ)
    shown = await invoke_tool(exec_tool, host, {"command": "echo ran"})
    assert "INJECTED" not in shown.text  # BASH_ENV was not honoured


async def test_the_timeout_is_capped_by_performance_config(make_tools, host):
    exec_tool, _ = make_tools(
        {"tools": {"exec": {"security": "full"}}, "performance": {"tools": {"exec": {"timeout": 300}}}}
    )
    result = await invoke_tool(exec_tool, host, {"command": "sleep 305", "timeout": 1000})
    assert result.is_error and "timed out after 0.3s" in result.text


def test_no_process_outlives_the_tests(procs):
    assert not any(procs.alive_with(f"sleep {n}") for n in range(301, 306))

"""The process tool: background commands' output, stdin, kill, timeouts, and session isolation."""

import dataclasses

import trio

from moltbot.tools import invoke_tool


async def test_write_stdin_then_poll_the_output(make_tools, host):
    exec_tool, process = make_tools()
    started = await invoke_tool(exec_tool, host, {"command": "tr a-z A-Z", "background": True})
    assert started.text.startswith("started p1")
    wrote = await invoke_tool(process, host, {"action": "write", "id": "p1", "data": "hello\n", "eof": True})
    assert wrote.text == "wrote 6 bytes to p1 and closed stdin"
    entry = exec_tool.table.background["p1"]
    with trio.fail_after(5):
        await entry.ended.wait()
    polled = await invoke_tool(process, host, {"action": "poll", "id": "p1"})
    assert polled.text == "HELLO\n[p1: exited with code 0]"
    again = await invoke_tool(process, host, {"action": "poll", "id": "p1"})
    assert again.text == "[p1: exited with code 0]"  # only new output
    late = await invoke_tool(process, host, {"action": "write", "id": "p1", "data": "x"})
    assert late.is_error and "has ended" in late.text


async def test_list_and_kill_with_the_whole_group(make_tools, host, workspace, procs):
    exec_tool, process = make_tools()
    await invoke_tool(exec_tool, host, {"command": "sleep 321 & echo $! > k.pid; wait", "background": True})
    listed = await invoke_tool(process, host, {"action": "list"})
    assert listed.text.startswith("p1  running  sleep 321")
    assert exec_tool.table.running == 1
    with trio.fail_after(5):
        while not (workspace / "k.pid").exists() or not (workspace / "k.pid").read_text().strip():
            await trio.sleep(0.02)
    killed = await invoke_tool(process, host, {"action": "kill", "id": "p1"})
    assert killed.text == "p1: killed"
    assert exec_tool.table.running == 0
    with trio.fail_after(5):
        while not procs.gone(int((workspace / "k.pid").read_text())):
            await trio.sleep(0.02)


async def test_background_processes_time_out(make_tools, host):
    exec_tool, process = make_tools()
    await invoke_tool(
        exec_tool, host, {"command": "echo begun; sleep 322", "background": True, "timeout": 0.3}
    )
    with trio.fail_after(5):
        await exec_tool.table.background["p1"].ended.wait()
    polled = await invoke_tool(process, host, {"action": "poll", "id": "p1"})
    assert polled.text == "begun\n[p1: timed out (killed)]"


async def test_other_sessions_cannot_see_or_touch_it(make_tools, host):
    exec_tool, process = make_tools()
    await invoke_tool(exec_tool, host, {"command": "sleep 323", "background": True})
    other = dataclasses.replace(host, session_key="agent:main:other")
    assert (await invoke_tool(process, other, {"action": "list"})).text == "no background processes"
    refused = await invoke_tool(process, other, {"action": "kill", "id": "p1"})
    assert refused.is_error and "no background process p1 in this session" in refused.text
    missing_id = await invoke_tool(process, host, {"action": "poll"})
    assert missing_id.is_error and "needs an id" in missing_id.text
    await invoke_tool(process, host, {"action": "kill", "id": "p1"})

"""``moltbot sessions`` reads from disk without a gateway; the service writes the index."""

from __future__ import annotations

import json

import trio
from click.testing import CliRunner

from moltbot.app import App
from moltbot.cli import cli
from moltbot.config import Settings, resolve_paths
from moltbot.sessions import entries as E
from moltbot.sessions import sessions_dir
from moltbot.sessions.service import SessionService
from moltbot.testing import make_plugins

from .helpers import open_store

KEY = "agent:main:telegram:dm:42"


def run(state, *args):
    return CliRunner().invoke(cli, ["--state-dir", str(state), "sessions", *args])


async def make_state(state):
    store = await open_store(sessions_dir(state, "main"))
    session = await store.session(KEY, origin={"channel": "telegram", "chatType": "dm"})
    call = {"id": "c1", "name": "weather", "arguments": {"city": "Paris"}}
    await session.append(E.message("user", "weather?"))
    await session.append(
        E.message("assistant", "", tool_calls=[call], model="openai/gpt-x"),
        E.usage(model="openai/gpt-x", input_tokens=120, output_tokens=8, cost=0.002),
    )
    await session.append(E.tool_result("c1", "weather", "sunny"))
    await session.append(E.message("assistant", "Sunny.", model="openai/gpt-x"))
    await store.flush()
    return store, session


async def test_list_show_inspect(tmp_path):
    _store, session = await make_state(tmp_path)
    listed = json.loads(run(tmp_path, "list", "--json").output)["sessions"]
    assert [(r["agentId"], r["key"], r["messageCount"]) for r in listed] == [("main", KEY, 3)]
    assert KEY in run(tmp_path, "list").output

    shown = run(tmp_path, "show", KEY, "--limit", "2")
    assert shown.exit_code == 0
    assert shown.output.splitlines()[1:] == [
        f"{session.entries[-2]['timestamp'][11:19]} tool weather: sunny",
        f"{session.entries[-1]['timestamp'][11:19]} assistant: Sunny.",
    ]
    by_id = json.loads(run(tmp_path, "show", session.id, "--json").output)
    assert [e["type"] for e in by_id["entries"]] == ["message", "message", "usage", "toolResult", "message"]

    report = json.loads(run(tmp_path, "inspect", KEY, "--json").output)
    assert report | {"lastModified": None, "metadata": None} == {
        "sessionId": session.id,
        "key": KEY,
        "agentId": "main",
        "current": True,
        "exists": True,
        "path": str(session.path),
        "size": session.path.stat().st_size,
        "lastModified": None,
        "messageCount": 3,
        "tokenCount": 128,
        "tornBytes": 0,
        "setAsideBytes": 0,
        "unreadableLines": 0,
        "metadata": None,
    }
    assert report["metadata"]["model"] == "openai/gpt-x"


async def test_cli_is_read_only_and_sees_unflushed_appends_and_torn_tails(tmp_path):
    _store, session = await make_state(tmp_path)
    await session.append(E.message("user", "after the last index write"))
    with open(session.path, "ab") as handle:
        handle.write(b'{"type":"mess')
    before = {p.name: p.read_bytes() for p in session.path.parent.iterdir()}
    report = json.loads(run(tmp_path, "inspect", session.id, "--json").output)
    assert (report["messageCount"], report["tornBytes"]) == (4, 13)
    assert json.loads(run(tmp_path, "list", "--json").output)["sessions"][0]["messageCount"] == 4
    assert {p.name: p.read_bytes() for p in session.path.parent.iterdir()} == before


async def test_old_sessions_by_id_and_clear_errors(tmp_path):
    store, session = await make_state(tmp_path)
    await store.reset(KEY)
    old = run(tmp_path, "show", session.id)
    assert "(ended)" in old.output.splitlines()[0]
    assert "reset (manual)" in old.output.splitlines()[-1]
    for ref, message in [
        ("../../etc/passwd", "not a session key"),
        ("agent:main:telegram:dm:nobody", "no session"),
        ("00000000-0000-4000-8000-000000000000", "no session"),
    ]:
        result = run(tmp_path, "inspect", ref)
        assert result.exit_code == 1 and message in result.output
    assert "no sessions" in run(tmp_path / "empty", "list").output


async def test_service_flushes_the_index_periodically_and_at_shutdown(tmp_path):
    app = App(
        paths=resolve_paths({"MOLTBOT_STATE_DIR": str(tmp_path)}), settings=Settings(), plugins=make_plugins()
    )
    service = SessionService(app, flush_interval=0.05)
    index = sessions_dir(tmp_path, "main") / "sessions.json"
    async with trio.open_nursery() as nursery:
        await nursery.start(service.run)
        store = await service.store()
        session = await store.session(KEY)
        await session.append(E.message("user", "one"))
        with trio.fail_after(10):  # the write happens in the service's own time
            while json.loads(index.read_text())["sessions"][KEY]["messageCount"] != 1:
                await trio.sleep(0.01)
        await session.append(E.message("user", "two"))
        assert service.status() == {"agents": 1, "sessions": 1, "cached": 1}
        nursery.cancel_scope.cancel()
    assert json.loads(index.read_text())["sessions"][KEY]["messageCount"] == 2


def test_sessions_is_a_registered_command_and_service():
    plugins = make_plugins()
    assert "sessions" in plugins.commands()
    assert "sessions" in plugins.services()

"""``moltbot agent --local``, ``moltbot debug trace`` and the session tools."""

from __future__ import annotations

import json

from click.testing import CliRunner

from moltbot.cli.agent_cmd import agent_command
from moltbot.cli.debug_trace_cmd import trace_command
from moltbot.cli.state import CliState
from moltbot.config import resolve_paths
from moltbot.testing.fake_openai import Reply, ToolCallScript

from .conftest import KEY, ask, model_config, running


def cli_state(moltbot_home) -> CliState:
    return CliState(paths=resolve_paths({"MOLTBOT_STATE_DIR": str(moltbot_home)}))


async def test_debug_trace_lists_and_shows_runs(make_app, fake, moltbot_home) -> None:
    app = make_app(model_config(fake))
    fake.script(
        Reply(tool_calls=[ToolCallScript("c1", "read", json.dumps({"path": "USER.md"}))]), Reply(text="done")
    )
    async with running(app) as runtime:
        result = await ask(runtime, "hi")
    runner = CliRunner()
    listing = runner.invoke(trace_command, ["main"], obj=cli_state(moltbot_home))
    assert listing.exit_code == 0, listing.output
    assert result["runId"][:8] in listing.output and " ok " in listing.output
    shown = runner.invoke(trace_command, ["main", "--run", result["runId"][:8]], obj=cli_state(moltbot_home))
    assert shown.exit_code == 0, shown.output
    assert "model" in shown.output and "tool" in shown.output and "(2 calls)" in shown.output
    as_json = runner.invoke(trace_command, [result["sessionId"], "--json"], obj=cli_state(moltbot_home))
    assert json.loads(as_json.output)["runs"][0]["runId"] == result["runId"]
    missing = runner.invoke(trace_command, ["agent:main:nobody"], obj=cli_state(moltbot_home))
    assert missing.exit_code == 1 and "no session" in missing.output
    bad_run = runner.invoke(trace_command, ["main", "--run", "zzz"], obj=cli_state(moltbot_home))
    assert bad_run.exit_code == 1 and "no runs match" in bad_run.output


def test_agent_local_runs_one_turn(make_app, moltbot_home, tmp_path) -> None:
    make_app({"agent": {"workspace": str(tmp_path / "ws")}})
    runner = CliRunner()
    out = runner.invoke(agent_command, ["-m", "hi", "--local", "--json"], obj=cli_state(moltbot_home))
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)  # logs go to stderr; stdout is the JSON alone
    assert result["status"] == "ok" and result["stopReason"] == "no_model"
    plain = runner.invoke(agent_command, ["-m", "/status", "--local"], obj=cli_state(moltbot_home))
    assert "Messages: 2" in plain.output


async def test_session_tools(make_app, fake) -> None:
    app = make_app(model_config(fake))
    send = json.dumps({"session_key": "agent:main:helper", "message": "what is 2+2?"})
    fake.script(
        Reply(tool_calls=[ToolCallScript("c1", "sessions_send", send)]),
        Reply(text="4"),
        Reply(
            tool_calls=[
                ToolCallScript("c2", "sessions_list", "{}"),
                ToolCallScript("c3", "sessions_history", json.dumps({"session_key": "helper"})),
                ToolCallScript("c4", "session_status", "{}"),
                ToolCallScript("c5", "sessions_send", json.dumps({"session_key": "main", "message": "me"})),
            ]
        ),
        Reply(text="The helper says 4."),
    )
    async with running(app) as runtime:
        result = await ask(runtime, "ask the helper")
        assert result["status"] == "ok" and result["text"] == "The helper says 4."
        session = await (await runtime.store(KEY)).get(KEY)
        results = {e["name"]: e for e in session.entries if e["type"] == "toolResult"}
    assert next(e for e in session.entries if e["type"] == "toolResult")["content"] == "4"
    assert "agent:main:helper" in results["sessions_list"]["content"]
    assert "assistant: 4" in results["sessions_history"]["content"]
    assert "session agent:main:main" in results["session_status"]["content"]
    assert (
        results["sessions_send"]["isError"]
        and "cannot message the session" in results["sessions_send"]["content"]
    )

"""The real ``moltbot run`` process with the Slack plugin in Socket Mode, the fake Slack and the
fake OpenAI model: pair through the CLI, chat in a DM and in a channel thread, SIGKILL the
gateway mid-answer, restart, and the accepted message is still answered once."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.plugins import load_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply
from moltbot.testing.process import gateway_process, moltbot_cli, write_state

from .fake_slack import GENERAL, FakeSlack
from .harness import eventually, slack_config


def write_gateway_config(tmp_path: Path, model: FakeOpenAI, slack: FakeSlack, **channel: Any) -> Path:
    return write_state(tmp_path, model.base_url, {"slack": slack_config(slack, **channel)})


async def test_pair_chat_kill_and_restart(tmp_path: Path, nursery: trio.Nursery) -> None:
    if "openai" not in load_plugins().model_providers():
        pytest.skip("moltbot-openai is not installed")
    model = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(model.run)
    slack = FakeSlack()
    await nursery.start(slack.run)
    state = write_gateway_config(tmp_path, model, slack, groups={GENERAL: {"requireMention": True}})
    async with gateway_process(state) as gateway:
        slack.user_says("hello?")
        await eventually(lambda: len(slack.messages) == 1, "the pairing code", timeout=20)
        code = slack.sent_texts()[0].split("Pairing code: ")[1][:8]
        assert "approved U4242 on slack" in await moltbot_cli(state, "pairing", "approve", "slack", code)
        model.script(Reply(text="Hi from **the model** <@U0ADMIN>"))
        slack.user_says("hi agent", channel=GENERAL, mention=True)
        await eventually(lambda: len(slack.messages) == 2, "the model's reply", timeout=20)
        reply = slack.messages[1]
        assert reply["text"] == "Hi from *the model* &lt;@U0ADMIN&gt;" and reply["thread_ts"]
        assert slack.pings == []
        model.script(Reply(text="never delivered", delay=60))
        slack.user_says("a slow question")
        await eventually(lambda: len(model.requests) == 2, "the slow model call", timeout=20)
        await eventually(lambda: not slack.socket.pending, "the slow question acknowledged", timeout=20)
        gateway.process.send_signal(signal.SIGKILL)  # acknowledged: Slack will not deliver it again
        await gateway.process.wait()
    model.script(Reply(text="answered after the restart"))
    async with gateway_process(state) as restarted:
        await eventually(lambda: len(slack.messages) == 3, "the journaled message's reply", timeout=20)
        await trio.sleep(0.5)
    for run in (gateway, restarted):
        assert b"xoxb-" not in run.output and b"xapp-" not in run.output  # no token in the logs
    assert slack.sent_texts()[2] == "answered after the restart" and len(slack.messages) == 3
    asked = [m["content"] for m in model.requests[-1].body["messages"] if m["role"] == "user"]
    assert asked == ["a slow question"]

"""The real ``moltbot run`` process with the Discord plugin, the fake Discord and the fake
OpenAI model: pair a user through the CLI, chat, lose the Gateway connection, chat again."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from moltbot.plugins import load_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply
from moltbot.testing.process import gateway_process, moltbot_cli, write_state

from .fake_discord import FakeDiscord
from .harness import discord_config, eventually


async def test_pair_chat_and_resume_in_a_real_gateway(tmp_path: Path, nursery: trio.Nursery) -> None:
    if "openai" not in load_plugins().model_providers():
        pytest.skip("moltbot-openai is not installed")
    model = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(model.run)
    discord = FakeDiscord()
    await nursery.start(discord.run)
    state = write_state(tmp_path, model.base_url, {"discord": discord_config(discord)})
    async with gateway_process(state):
        await eventually(lambda: bool(discord.gateway.live), "the Gateway session", timeout=20)
        discord.dm("hello?", user_id="4242")
        await eventually(lambda: len(discord.sent()) == 1, "the pairing code", timeout=20)
        code = discord.sent()[0].split("Pairing code: ")[1][:8]
        assert "approved 4242 on discord" in await moltbot_cli(state, "pairing", "approve", "discord", code)
        model.script(Reply(text="Hi from the model"))
        discord.dm("hi agent", user_id="4242")
        await eventually(lambda: len(discord.sent()) == 2, "the model's reply", timeout=20)
        assert discord.sent()[1] == "Hi from the model"
        await discord.gateway.drop()
        model.script(Reply(text="Second answer"))
        discord.dm("still there?", user_id="4242")  # while disconnected: replayed on resume
        await eventually(lambda: len(discord.sent()) == 3, "the reply after the resume", timeout=20)
        assert discord.sent()[2] == "Second answer"
        assert [c.path for c in discord.gateway.connections] == ["/", "/resume/"]
    asked = [m["content"] for m in model.requests[-1].body["messages"] if m["role"] == "user"]
    assert asked == ["hi agent", "still there?"]

"""The real ``moltbot run`` process with the Telegram plugin, the fake Bot API and the fake
OpenAI model: pair a user through the CLI, chat, SIGKILL the gateway, restart, no double reply."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.channels.journal import InboundJournal
from moltbot.plugins import load_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply
from moltbot.testing.process import gateway_process, moltbot_cli, write_state

from .fake_telegram import FakeTelegram
from .harness import PUBLIC_URL, SECRET, eventually, telegram_config


def write_gateway_config(tmp_path: Path, model: FakeOpenAI, telegram: FakeTelegram, **channel: Any) -> Path:
    return write_state(tmp_path, model.base_url, {"telegram": telegram_config(telegram, **channel)})


async def fakes(nursery: trio.Nursery) -> tuple[FakeOpenAI, FakeTelegram]:
    if "openai" not in load_plugins().model_providers():
        pytest.skip("moltbot-openai is not installed")
    model = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(model.run)
    telegram = FakeTelegram()
    await nursery.start(telegram.run)
    return model, telegram


async def test_pair_chat_kill_and_restart(tmp_path: Path, nursery: trio.Nursery) -> None:
    model, telegram = await fakes(nursery)
    state = write_gateway_config(tmp_path, model, telegram)
    async with gateway_process(state) as gateway:
        telegram.user_says("hello?", user_id=4242)
        await eventually(lambda: len(telegram.sent()) == 1, "the pairing code", timeout=20)
        code = telegram.sent()[0]["text"].split("Pairing code: ")[1][:8]
        assert "approved 4242 on telegram" in await moltbot_cli(state, "pairing", "approve", "telegram", code)
        model.script(Reply(text="Hi from the model"))
        update = telegram.user_says("hi agent", user_id=4242)
        await eventually(lambda: len(telegram.sent()) == 2, "the model's reply", timeout=20)
        assert telegram.sent()[1]["text"] == "Hi from the model"
        calls = len(model.requests)
        # wait for the run's end, not just its reply: a kill in between is replayed (at least once)
        journal = state / "channels" / "journal.log"
        await eventually(lambda: not InboundJournal(journal).pending(), "the run's end", timeout=20)
        gateway.process.send_signal(signal.SIGKILL)
        await gateway.process.wait()
    # as if the crash had come before the offset was saved: the update is offered again
    (state / "channels" / "telegram" / "offset.json").unlink()
    telegram.redeliver(update)
    async with gateway_process(state):
        model.script(Reply(text="Second answer"))
        telegram.user_says("still there?", user_id=4242)
        await eventually(lambda: len(telegram.sent()) == 3, "the reply after the restart", timeout=20)
        await trio.sleep(0.5)
    assert [p["text"] for p in telegram.sent()[1:]] == ["Hi from the model", "Second answer"]
    assert len(model.requests) == calls + 1
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)


async def test_a_message_accepted_before_a_kill_is_answered_after_the_restart(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    model, telegram = await fakes(nursery)
    state = write_gateway_config(tmp_path, model, telegram, dmPolicy="allowlist", allowFrom=["4242"])
    model.script(Reply(text="never delivered", delay=60))
    async with gateway_process(state) as gateway:
        telegram.user_says("a slow question", user_id=4242)
        await eventually(lambda: len(model.requests) == 1, "the model call", timeout=20)
        gateway.process.send_signal(signal.SIGKILL)  # the update's offset is saved: Telegram will not resend
        await gateway.process.wait()
    assert telegram.sent() == []
    model.script(Reply(text="answered after the restart"))
    async with gateway_process(state):
        await eventually(lambda: len(telegram.sent()) == 1, "the journaled message's reply", timeout=20)
        journal = state / "channels" / "journal.log"
        await eventually(lambda: not InboundJournal(journal).pending(), "the journal emptied", timeout=20)
    assert telegram.sent()[0]["text"] == "answered after the restart"
    asked = [m["content"] for m in model.requests[-1].body["messages"] if m["role"] == "user"]
    assert asked == ["a slow question"]  # the transcript kept one copy, not two


async def test_webhook_mode_in_a_real_gateway(tmp_path: Path, nursery: trio.Nursery) -> None:
    model, telegram = await fakes(nursery)
    webhook = {"mode": "webhook", "webhookUrl": PUBLIC_URL, "webhookSecret": SECRET}
    state = write_gateway_config(
        tmp_path, model, telegram, dmPolicy="allowlist", allowFrom=["4242"], **webhook
    )
    model.script(Reply(text="answered by webhook"))
    async with gateway_process(state) as gateway:
        await eventually(lambda: telegram.webhook.get("url") == PUBLIC_URL, "setWebhook", timeout=20)
        telegram.tunnel = gateway.http_url + "/webhooks/telegram"  # where the public URL leads
        telegram.user_says("hello over the webhook", user_id=4242)
        await eventually(lambda: len(telegram.sent()) == 1, "the reply", timeout=20)
        telegram.tunnel = None
    assert telegram.sent()[0]["text"] == "answered by webhook"
    assert telegram.deliveries[-1] == 200 and not [c for c in telegram.calls if c.method == "getUpdates"]
    assert SECRET.encode() not in gateway.output and telegram.token.encode() not in gateway.output

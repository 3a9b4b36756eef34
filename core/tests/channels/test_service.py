"""The channels service end to end with an in-memory channel and the echo agent."""

from pathlib import Path

import trio
from click.testing import CliRunner

from moltbot.cli import cli
from moltbot.interfaces.channel import Origin, OutboundMessage

from .helpers import eventually, running


def pairing(state: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--no-plugins", "--state-dir", str(state), "pairing", *args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_unknown_sender_pairs_then_reaches_the_agent(moltbot_home: Path) -> None:
    async with running(moltbot_home) as r:
        await r.memory.deliver("hello?", sender="alice")
        await eventually(lambda: len(r.memory.sent) == 1, "the pairing reply")
        reply = r.memory.sent[0]
        assert reply.target == "alice" and "Pairing code: " in reply.text
        code = reply.text.split("Pairing code: ")[1][:8]
        await r.memory.deliver("hello again?", sender="alice")
        await trio.sleep(0.05)
        assert len(r.memory.sent) == 1 and r.agent.calls == []  # one reply, never the agent
        assert code in pairing(moltbot_home, "list", "memory")
        assert "approved alice" in pairing(moltbot_home, "approve", "memory", code.lower())
        await r.memory.deliver("now?", sender="alice", message_id="m-now")
        await eventually(lambda: len(r.memory.sent) == 2, "the agent's reply")
        answer = r.memory.sent[1]
        assert answer.text == "echo: now?" and answer.reply_to == "m-now"
        call = r.agent.calls[0]
        assert call.session_key == "agent:main:memory:dm:alice"
        assert call.idempotency_key == "memory:m-now"
        assert call.origin == Origin(channel="memory", chat_id="alice", sender="alice", message_id="m-now")


async def test_redelivered_messages_run_once_even_after_restart(moltbot_home: Path) -> None:
    config = {"memory": {"dmPolicy": "open", "allowFrom": ["*"]}}
    async with running(moltbot_home, config) as r:
        for _ in range(3):
            await r.memory.deliver("once", sender="bob", message_id="dup-1")
        await eventually(lambda: len(r.memory.sent) == 1, "one reply")
        await trio.sleep(0.05)
        assert len(r.agent.calls) == 1
    async with running(moltbot_home, config) as r:
        await r.memory.deliver("once", sender="bob", message_id="dup-1")
        await r.memory.deliver("new", sender="bob", message_id="dup-2")
        await eventually(lambda: len(r.memory.sent) == 1, "the reply to the new message")
        assert [c.text for c in r.agent.calls] == ["new"]


async def test_typing_runs_until_the_reply(moltbot_home: Path) -> None:
    config = {"memory": {"dmPolicy": "allowlist", "allowFrom": ["carol"]}}
    async with running(moltbot_home, config, typing_interval=0.02) as r:
        r.agent.delay = 0.2
        await r.memory.deliver("think", sender="carol")
        await eventually(lambda: len(r.memory.sent) == 1, "the reply")
        typed = len(r.memory.typing_in)
        assert typed >= 3 and set(r.memory.typing_in) == {"carol"}
        await trio.sleep(0.1)
        assert len(r.memory.typing_in) == typed


async def test_long_replies_are_chunked_once(moltbot_home: Path) -> None:
    async with running(moltbot_home) as r:
        origin = Origin(channel="memory", chat_id="dave", sender="dave", message_id="m1")
        text = "```\n" + "\n".join(f"line {i}" for i in range(1200)) + "\n```"
        await r.service.deliver(origin, text)
        await r.service.deliver(origin, text)  # a retried delivery sends nothing new
        sent = r.memory.sent
        assert len(sent) == 3 and all(len(m.text) <= 4000 for m in sent)
        assert [m.reply_to for m in sent] == ["m1", None, None]
        assert len({m.idempotency_key for m in sent}) == 3
        assert all(m.text.startswith("```") and m.text.endswith("```") for m in sent)


async def test_a_failed_send_is_retried_with_the_same_key(moltbot_home: Path) -> None:
    async with running(moltbot_home, send_retry_delay=0.01) as r:
        failures = [ConnectionError("reset")]
        real_send = r.memory.send

        async def flaky_send(message: OutboundMessage) -> str:
            if failures:
                raise failures.pop()
            return await real_send(message)

        r.memory.send = flaky_send  # type: ignore[method-assign]
        keys = await r.service.send_text("memory", "erin", "hi", idempotency_key="k1")
        assert len(keys) == 1 and [m.idempotency_key for m in r.memory.sent] == ["memory:send:k1:0"]


async def test_status_lists_channels(moltbot_home: Path) -> None:
    async with running(moltbot_home, {"memory": {}}) as r:
        await eventually(lambda: r.service.status()["channels"]["memory"]["state"] == "running", "running")
        status = r.service.status()
        assert status["ok"] and status["channels"]["memory"]["account"] == "default"
        assert status["channels"]["webchat"]["state"] == "running"  # built in, no config needed


async def test_reloaded_access_settings_apply_to_the_next_message(moltbot_home: Path) -> None:
    from moltbot.config import Settings

    async with running(moltbot_home, {"memory": {"dmPolicy": "allowlist"}}) as r:
        await r.memory.deliver("ignored", sender="fred")
        await trio.sleep(0.05)
        assert r.agent.calls == [] and r.memory.sent == []
        raw = r.app.settings.model_dump(by_alias=True)
        raw["channels"] = {"memory": {"dmPolicy": "allowlist", "allowFrom": ["fred"]}}
        before = r.memory
        r.app.settings = Settings.model_validate(raw)  # what the config reloader does
        r.service.apply_settings(r.app.settings)
        await r.memory.deliver("let me in", sender="fred")
        await eventually(lambda: len(r.memory.sent) == 1, "the reply after the reload")
        assert [c.text for c in r.agent.calls] == ["let me in"]
        assert r.memory is before  # an access change does not restart the channel


async def test_accepted_but_unfinished_messages_run_after_a_restart(moltbot_home: Path) -> None:
    config = {"memory": {"dmPolicy": "open", "allowFrom": ["*"]}}
    async with running(moltbot_home, config) as r:
        r.agent.delay = 3600  # the gateway "dies" while the agent works on it
        await r.memory.deliver("remember me", sender="gina", message_id="m-crash")
        await eventually(lambda: len(r.agent.calls) == 1, "the agent got it")
        assert len(r.service.journal.pending()) == 1
    async with running(moltbot_home, config) as r:
        await eventually(lambda: len(r.memory.sent) == 1, "the reply after the restart")
        assert [c.text for c in r.agent.calls] == ["remember me"]
        assert r.memory.sent[0].target == "gina" and r.memory.sent[0].reply_to == "m-crash"
        await eventually(lambda: r.service.journal.pending() == [], "the journal emptied")
        await r.memory.deliver("remember me", sender="gina", message_id="m-crash")  # redelivered
        await trio.sleep(0.05)
        assert len(r.agent.calls) == 1


async def test_two_accounts_seeing_one_message_id_both_answer(moltbot_home: Path) -> None:
    config = {"memory": {"dmPolicy": "open", "allowFrom": ["*"], "accounts": {"a": {}, "b": {}}}}
    async with running(moltbot_home, config) as r:
        bots = [r.service.channels[name].channel for name in ("memory:a", "memory:b")]
        for bot in bots:  # e.g. two Discord bots mentioned in one guild message
            await bot.deliver("hello both", sender="hal", chat_id="guild-1", message_id="shared-1")
        await eventually(lambda: all(len(bot.sent) == 1 for bot in bots), "a reply from each bot")
        assert sorted(c.idempotency_key for c in r.agent.calls) == ["memory:a:shared-1", "memory:b:shared-1"]


async def test_a_message_the_agent_refuses_for_good_is_not_replayed(moltbot_home: Path) -> None:
    from moltbot.channels.testing import EchoAgent

    class RefusingAgent(EchoAgent):
        async def submit(self, **kw: object) -> str:
            raise ValueError("invalid session key")

    config = {"memory": {"dmPolicy": "open", "allowFrom": ["*"]}}
    async with running(moltbot_home, config) as r:
        r.app.services["agent"] = RefusingAgent(r.app)
        await r.memory.deliver("doomed", sender="ivy", message_id="m-bad")
        await eventually(lambda: r.app.metrics.counter("channels.inbound", channel="memory") == 1, "routed")
        await trio.sleep(0.05)
        assert r.service.journal.pending() == [] and r.memory.sent == []

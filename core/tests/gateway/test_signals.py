"""A second SIGTERM/SIGINT during a graceful shutdown ends the real process at once (128 + signal)."""

from __future__ import annotations

import contextlib
import signal

import pytest
import trio

from moltbot.config import write_config
from moltbot.gateway.client import ConnectOptions, GatewayClosed, connect
from moltbot.plugins import load_plugins
from moltbot.testing.fake_openai import FakeOpenAI, Reply

from .conftest import TOKEN, base_config
from .test_process import gateway_process


@pytest.mark.parametrize(
    ("first", "second"), [(signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT)]
)
async def test_second_signal_exits_at_once_while_a_request_holds_the_drain(tmp_path, first, second):
    if "openai" not in load_plugins().model_providers():
        pytest.skip("moltbot-openai is not installed")
    fake = FakeOpenAI(api_keys={"sk-test"})
    fake.script(Reply(text="late", delay=60))  # the model answers long after the test is over
    state = tmp_path / "state"
    async with trio.open_nursery() as nursery:
        await nursery.start(fake.run)
        config = {
            **base_config(),
            "agent": {"model": "openai/fake-model", "workspace": str(tmp_path / "ws")},
            "models": {"providers": {"openai": {"baseUrl": fake.base_url, "apiKey": "sk-test"}}},
            "performance": {"gateway": {"requestTimeout": 120000, "shutdownTimeout": 120000}},
            "monitoring": {"enabled": False},
        }
        write_config(state / "moltbot.json", config)
        async with gateway_process(state) as proc, connect(proc.url, ConnectOptions(token=TOKEN)) as c:
            run = await c.call("agent", {"message": "hi", "sessionKey": "slow", "idempotencyKey": "s1"})
            with trio.fail_after(10):
                while not fake.requests:  # the run reached the model, which sits on it
                    await trio.sleep(0.01)
            waiting = trio.Event()

            async def wait_for_run() -> None:
                waiting.set()
                with contextlib.suppress(GatewayClosed):  # the process goes away under it
                    await c.request("agent.wait", {"runId": run["runId"], "timeoutMs": 110000})

            nursery.start_soon(wait_for_run)
            await waiting.wait()
            await trio.sleep(0.2)  # the agent.wait request is in flight in the gateway
            proc.process.send_signal(first)
            with trio.fail_after(10):
                await c.wait_event("shutdown")  # draining: waits for agent.wait (up to 120 s)
            await trio.sleep(0.3)
            assert proc.process.poll() is None, "the first signal must drain, not exit"
            proc.process.send_signal(second)
            with trio.fail_after(5):
                assert await proc.process.wait() == 128 + second
            assert "second signal: exiting now" in await proc.read_until_end()
        nursery.cancel_scope.cancel()

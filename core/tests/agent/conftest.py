"""Agent test helpers: an App whose model is the fake OpenAI server, and a running runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from moltbot.agent import AgentRuntime
from moltbot.app import App
from moltbot.config import load_settings, resolve_paths, write_config
from moltbot.plugins import Plugins, load_plugins
from moltbot.sessions.service import SessionService
from moltbot.testing.fake_anthropic import FakeAnthropic
from moltbot.testing.fake_openai import FakeOpenAI

KEY = "agent:main:main"


class Recorder:
    """Stands in for ``app.services["gateway"]``: keeps every broadcast."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, dict[str, Any], str | None]] = []

    def broadcast(self, event: str, payload: dict[str, Any], *, scope: str | None = "operator.read") -> None:
        self.frames.append((event, payload, scope))

    def of(self, event: str, run_id: str | None = None) -> list[dict[str, Any]]:
        return [p for e, p, _ in self.frames if e == event and (run_id is None or p.get("runId") == run_id)]


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    plugins = load_plugins()
    if "openai" not in plugins.model_providers():
        pytest.skip("moltbot-openai is not installed")
    return plugins


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeOpenAI:
    server = FakeOpenAI(api_keys={"sk-test"})
    await nursery.start(server.run)
    return server


@pytest.fixture
async def fake_anthropic(nursery: trio.Nursery) -> FakeAnthropic:
    server = FakeAnthropic(api_keys={"sk-ant"})
    await nursery.start(server.run)
    return server


def model_config(fake: FakeOpenAI, **agent: Any) -> dict[str, Any]:
    return {
        "agent": {"model": "openai/fake-model", **agent},
        "models": {"providers": {"openai": {"baseUrl": fake.base_url, "apiKey": "sk-test", "timeout": 5000}}},
        "tools": {"profile": "coding", "deny": ["exec", "process"]},
    }


@pytest.fixture
def make_app(moltbot_home: Path, tmp_path: Path, plugins: Plugins) -> Callable[..., App]:
    def build(config: dict[str, Any]) -> App:
        env = {"MOLTBOT_STATE_DIR": str(moltbot_home)}
        config = {**config, "agent": {"workspace": str(tmp_path / "ws"), **config.get("agent", {})}}
        paths = resolve_paths(env)
        write_config(paths.config_path, config)
        return App(paths=paths, settings=load_settings(paths.config_path, plugins, env), plugins=plugins)

    return build


@asynccontextmanager
async def running(app: App, *, gateway: Any = None) -> AsyncIterator[AgentRuntime]:
    """The sessions service and the agent runtime (plus a broadcast recorder) in a nursery."""
    async with trio.open_nursery() as nursery:
        app.services["gateway"] = gateway if gateway is not None else Recorder()
        sessions = SessionService(app)
        app.services["sessions"] = sessions
        await nursery.start(sessions.run)
        runtime = AgentRuntime(app)
        app.services["agent"] = runtime
        await nursery.start(runtime.run)
        yield runtime
        nursery.cancel_scope.cancel()


async def ask(runtime: AgentRuntime, text: str, key: str = KEY, **kw: Any) -> dict[str, Any]:
    run_id = await runtime.submit(session_key=key, text=text, **kw)
    return await runtime.wait(run_id, timeout=20)

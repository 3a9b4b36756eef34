"""Shared helpers for the observability tests: an App from inline settings, a settable probe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from moltbot.app import App
from moltbot.config import Paths
from moltbot.config.load import validate
from moltbot.logs import setup as log_setup
from moltbot.metrics.system import SystemReading
from moltbot.testing import make_plugins


def build_app(tmp_path: Path, raw: dict[str, Any] | None = None, *impls: Callable[..., Any]) -> App:
    plugins = make_plugins(*impls)
    settings = validate(raw or {}, plugins)
    state = tmp_path / "state"
    return App(
        paths=Paths(state_dir=state, config_path=state / "moltbot.json"), settings=settings, plugins=plugins
    )


@dataclass
class FakeProbe:
    """A :class:`SystemProbe` whose reading tests set directly."""

    reading: SystemReading = field(
        default_factory=lambda: SystemReading(
            cpu=0.1,
            process_cpu=0.05,
            process_rss=1 << 20,
            process_uptime=5.0,
            memory=0.3,
            disk=0.5,
            net_in=0,
            net_out=0,
        )
    )
    reads: int = 0

    def set(self, **values: Any) -> None:
        self.reading = replace(self.reading, **values)

    def read(self) -> SystemReading:
        self.reads += 1
        return self.reading


@dataclass
class Ctx:
    """What a gateway method handler sees (the RpcContext protocol)."""

    app: Any
    params: Any
    method: str = "test"
    conn_id: str = "c1"
    role: str = "operator"
    scopes: frozenset[str] = frozenset({"operator.read"})


@pytest.fixture(autouse=True)
def _restore_loguru() -> Iterator[None]:
    """configure_logging replaces loguru's handlers; undo it after each test."""
    yield
    if log_setup._active is not None:
        log_setup._active.close()  # leaves a plain stderr handler, as at shutdown


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., App]:
    """``make_app(raw_settings, *inline_hookimpls)`` -> an App whose state dir is in tmp_path."""
    return lambda raw=None, *impls: build_app(tmp_path, raw, *impls)


@pytest.fixture
def probe() -> FakeProbe:
    return FakeProbe()


@pytest.fixture
def rpc_ctx() -> type[Ctx]:
    return Ctx

"""Shared helpers for the observability tests: an App from inline settings, a settable probe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moltbot.app import App
from moltbot.config import Paths
from moltbot.config.load import validate
from moltbot.logs import setup as log_setup
from moltbot.system import FixedProbe
from moltbot.testing import make_plugins


def build_app(tmp_path: Path, raw: dict[str, Any] | None = None, *impls: Callable[..., Any]) -> App:
    plugins = make_plugins(*impls)
    settings = validate(raw or {}, plugins)
    state = tmp_path / "state"
    return App(
        paths=Paths(state_dir=state, config_path=state / "moltbot.json"), settings=settings, plugins=plugins
    )


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
def probe() -> FixedProbe:
    return FixedProbe(process_rss=1 << 20)


@pytest.fixture
def rpc_ctx() -> type[Ctx]:
    return Ctx

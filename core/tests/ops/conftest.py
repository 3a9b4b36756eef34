"""Helpers for operator-tool tests: a config in the temp state dir, a context, the CLI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from moltbot.cli import cli
from moltbot.config import resolve_paths
from moltbot.ops.context import OpsContext
from moltbot.plugins import Plugins
from moltbot.testing import make_plugins


@pytest.fixture
def write_cfg(moltbot_home: Path) -> Callable[[dict[str, Any]], Path]:
    def write(data: dict[str, Any], mode: int = 0o600) -> Path:
        moltbot_home.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(moltbot_home, 0o700)
        path = moltbot_home / "moltbot.json"
        path.write_text(json.dumps(data))
        os.chmod(path, mode)
        return path

    return write


@pytest.fixture
def ctx_for(moltbot_home: Path) -> Callable[..., OpsContext]:
    def build(plugins: Plugins | None = None, env: dict[str, str] | None = None) -> OpsContext:
        environ = dict(os.environ) if env is None else {**os.environ, **env}
        return OpsContext.load(resolve_paths(environ), environ, plugins or make_plugins())

    return build


@pytest.fixture
def run_cli(moltbot_home: Path) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--no-plugins", *args], catch_exceptions=False)

    return run

"""Every in-repo plugin is an installed distribution whose entry point is found and loads."""

import tomllib
from pathlib import Path

import importlib_metadata
import pytest

ROOT = Path(__file__).resolve().parents[1]

PLUGIN_PROJECTS = sorted(ROOT.glob("plugins/*/*/pyproject.toml"))


def test_there_are_plugins():
    assert PLUGIN_PROJECTS


@pytest.mark.parametrize("project", PLUGIN_PROJECTS, ids=lambda p: p.parent.name)
def test_plugin_is_discoverable_through_its_entry_point(project):
    meta = tomllib.loads(project.read_text())["project"]
    assert meta["name"].startswith("moltbot-"), "distributions are named moltbot-<name>"
    assert "moltbot-core" in " ".join(meta["dependencies"])
    declared = meta["entry-points"]["moltbot"]
    installed = {ep.name: ep for ep in importlib_metadata.entry_points(group="moltbot")}
    for name, target in declared.items():
        assert name in installed, f"{name} not installed: run ./dev setup"
        assert installed[name].value == target
        assert installed[name].dist.name == meta["name"]
        assert target.startswith("moltbot_")
        installed[name].load()

"""Core never imports a plugin; plugins never import each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package_dir):
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


def test_core_imports_no_plugin():
    offenders = [
        (str(p.relative_to(ROOT)), m)
        for p, m in imported_modules(ROOT / "core" / "src" / "moltbot")
        if m.split(".")[0].startswith("moltbot_")
    ]
    assert offenders == []


PLUGIN_PACKAGES = sorted(p for p in ROOT.glob("plugins/*/*/src/moltbot_*") if p.is_dir())


@pytest.mark.parametrize("package", PLUGIN_PACKAGES, ids=lambda p: p.name)
def test_plugin_imports_no_other_plugin(package):
    own = package.name
    offenders = [
        (str(p.relative_to(ROOT)), m)
        for p, m in imported_modules(package)
        if m.split(".")[0].startswith("moltbot_") and m.split(".")[0] != own
    ]
    assert offenders == []

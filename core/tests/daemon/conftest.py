"""Fake service-manager executables (``systemctl``, ``loginctl``, ``launchctl``) first on PATH.

Each records its argv to ``<bin>/calls.jsonl`` and answers from ``<bin>/<name>.json``:
``{"answers": [[argv-prefix, returncode, stdout, stderr], ...]}`` (first matching prefix wins;
no match answers 0 with no output). The fake systemctl also keeps unit state so that
``show`` reflects ``restart``/``stop``/``disable --now``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FAKE = r"""
import json, sys
from pathlib import Path
here = Path(__file__).parent
name = Path(__file__).name
argv = sys.argv[1:]
with (here / "calls.jsonl").open("a") as log:
    log.write(json.dumps([name, *argv]) + "\n")
conf_path = here / f"{name}.json"
conf = json.loads(conf_path.read_text()) if conf_path.exists() else {}
if name == "systemctl" and argv[:1] == ["--user"]:
    args = [a for a in argv[1:] if not a.startswith("--property")]
    state = conf.setdefault("state", {"ActiveState": "inactive", "SubState": "dead"})
    if args[:1] in (["restart"], ["start"]):
        state.update(ActiveState="active", SubState="running", MainPID="4242")
    elif args[:1] == ["stop"] or args[:2] == ["disable", "--now"]:
        state.update(ActiveState="inactive", SubState="dead", MainPID="0")
    conf_path.write_text(json.dumps(conf))
for prefix, code, out, err in conf.get("answers", []):
    if argv[: len(prefix)] == prefix:
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.exit(code)
if name == "systemctl" and argv[1:2] == ["show"]:
    print("\n".join(f"{k}={v}" for k, v in conf["state"].items()))
"""


class FakeBin:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def add(self, name: str, answers: list[list] | None = None, **extra: object) -> None:
        exe = self.dir / name
        exe.write_text(f"#!{sys.executable}\n{FAKE}")
        exe.chmod(0o755)
        (self.dir / f"{name}.json").write_text(json.dumps({"answers": answers or [], **extra}))

    def calls(self, name: str | None = None) -> list[list[str]]:
        log = self.dir / "calls.jsonl"
        rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return [row[1:] for row in rows if name is None or row[0] == name]


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    directory = tmp_path / "fakebin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return FakeBin(directory)


@pytest.fixture
def fake_moltbot(tmp_path: Path) -> Callable[[str], str]:
    """An executable named ``moltbot`` at a chosen (possibly awkward) directory name."""

    def make(dirname: str = "bin") -> str:
        directory = tmp_path / dirname
        directory.mkdir(parents=True, exist_ok=True)
        exe = directory / "moltbot"
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
        return str(exe)

    return make

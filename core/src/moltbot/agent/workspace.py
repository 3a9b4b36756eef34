"""The agent's workspace: bootstrap files seeded from templates, read (capped) into the prompt.

The five files are the user's to edit; moltbot only creates the ones that are missing, never
overwrites. Reads are cached by modification time so a turn costs one ``stat`` per file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

BOOTSTRAP_FILES = ("AGENTS.md", "SOUL.md", "USER.md", "IDENTITY.md", "TOOLS.md")
"""In prompt order: instructions first, then persona, user, identity and tool notes."""


def resolve_workspace(configured: str) -> Path:
    return Path(os.path.expanduser(configured)).resolve()


def seed_workspace(workspace: Path) -> list[str]:
    """Create ``workspace`` and every missing bootstrap file from the packaged templates.

    Returns the names of the files written (empty when all existed).
    """
    workspace.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    templates = resources.files("moltbot.agent") / "templates"
    for name in BOOTSTRAP_FILES:
        target = workspace / name
        if target.exists():
            continue
        try:
            with open(target, "x", encoding="utf-8") as handle:
                handle.write((templates / name).read_text(encoding="utf-8"))
        except FileExistsError:
            continue
        written.append(name)
    return written


@dataclass(frozen=True)
class BootstrapFile:
    name: str
    text: str
    truncated: bool


class Bootstrap:
    """Reads the bootstrap files of one workspace, each cut to ``max_chars``."""

    def __init__(self, workspace: Path, *, max_chars: int) -> None:
        self.workspace = workspace
        self.max_chars = max_chars
        self._cache: dict[str, tuple[int, int, BootstrapFile | None]] = {}

    def files(self) -> list[BootstrapFile]:
        """The non-empty files, in :data:`BOOTSTRAP_FILES` order."""
        out = []
        for name in BOOTSTRAP_FILES:
            item = self._read(name)
            if item is not None:
                out.append(item)
        return out

    def _read(self, name: str) -> BootstrapFile | None:
        path = self.workspace / name
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(name)
        if cached is not None and cached[:2] == stamp:
            return cached[2]
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        item = None
        if text:
            truncated = len(text) > self.max_chars
            if truncated:
                text = (
                    text[: self.max_chars].rstrip()
                    + f"\n…(truncated: {name} is longer than {self.max_chars} chars)"
                )
            item = BootstrapFile(name, text, truncated)
        self._cache[name] = (*stamp, item)
        return item

"""The secrets environment file (``<state dir>/gateway.env``), mode 0600.

One ``NAME=value`` per line, the subset of syntax systemd's ``EnvironmentFile=`` and this reader
agree on: values with spaces, quotes, ``#``, ``$`` or backslashes are double-quoted with
backslash escapes. The daemon units load it; the config refers to its variables as ``${NAME}``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from moltbot.config.store import atomic_write
from moltbot.errors import ConfigError

ENV_FILE = "gateway.env"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN_RE = re.compile(r"^[A-Za-z0-9_@%+=:,./~-]*$")


def env_file_path(state_dir: Path) -> Path:
    return state_dir / ENV_FILE


def read_env_file(path: Path) -> dict[str, str]:
    """The variables in ``path`` (empty when it does not exist); malformed lines are errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not _NAME_RE.match(name):
            raise ValueError(f"{path}:{number}: expected NAME=value, got {raw!r}")
        values[name] = _unquote(value.strip())
    return values


def environment_with_secrets(state_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` over the variables of ``<state_dir>/gateway.env``: what the service sees, and
    what every CLI command should resolve ``${NAME}`` references against."""
    path = env_file_path(state_dir)
    try:
        stored = read_env_file(path)
    except ValueError as exc:
        raise ConfigError([("", str(exc))], source=str(path)) from None
    except OSError as exc:
        raise ConfigError([("", f"cannot read the file: {exc.strerror}")], source=str(path)) from None
    return {**stored, **env}


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Atomically write ``values`` (sorted) with mode 0600; never leaves a world-readable copy."""
    lines = ["# moltbot secrets, loaded by the gateway service. Keep this file mode 0600.\n"]
    for name in sorted(values):
        if not _NAME_RE.match(name):
            raise ValueError(f"{name!r} is not a valid environment variable name")
        if "\n" in values[name] or "\r" in values[name]:
            raise ValueError(f"the value of {name} contains a line break")
        lines.append(f"{name}={_quote(values[name])}\n")
    atomic_write(path, "".join(lines).encode(), mode=0o600, keep_backup=False)


def ensure_private(path: Path) -> bool:
    """Create ``path`` empty (0600) when missing, or tighten it to 0600; True when changed."""
    if not path.exists():
        write_env_file(path, {})
        return True
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        return True
    return False


def _quote(value: str) -> str:
    if _PLAIN_RE.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    return value

"""``python -m moltbot.daemon.launch ENV_FILE -- PROGRAM ARGS...``: load the secrets file into the
environment (without overriding what is already set) and exec the program. Used by the launchd
agent, which cannot read environment files itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moltbot.daemon.envfile import read_env_file
from moltbot.errors import EX_CONFIG


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m moltbot.daemon.launch ENV_FILE -- PROGRAM [ARGS...]", file=sys.stderr)
        return 2
    try:
        values = read_env_file(Path(argv[0]))
    except (OSError, ValueError) as exc:
        print(f"cannot read the environment file: {exc}", file=sys.stderr)
        return EX_CONFIG
    for name, value in values.items():
        os.environ.setdefault(name, value)
    os.execvp(argv[2], argv[2:])
    return 0  # not reached: exec replaced the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where moltbot keeps its state and config, honouring the environment and the legacy name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "moltbot.json"
LEGACY_CONFIG_FILE = "clawdbot.json"


@dataclass(frozen=True)
class Paths:
    state_dir: Path
    config_path: Path

    @property
    def is_legacy(self) -> bool:
        """True when running from a Clawdbot-era ``~/.clawdbot`` state dir."""
        return self.state_dir.name == ".clawdbot"


def resolve_paths(env: Mapping[str, str] | None = None, home: Path | None = None) -> Paths:
    """``$MOLTBOT_STATE_DIR`` or ``~/.moltbot`` (``~/.clawdbot`` if only that exists);
    the config is ``$MOLTBOT_CONFIG_PATH`` or ``<state>/moltbot.json``."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if env.get("MOLTBOT_STATE_DIR"):
        state = Path(env["MOLTBOT_STATE_DIR"]).expanduser()
    elif env.get("CLAWDBOT_STATE_DIR"):
        state = Path(env["CLAWDBOT_STATE_DIR"]).expanduser()
    elif not (home / ".moltbot").exists() and (home / ".clawdbot").is_dir():
        state = home / ".clawdbot"
    else:
        state = home / ".moltbot"
    if env.get("MOLTBOT_CONFIG_PATH"):
        config = Path(env["MOLTBOT_CONFIG_PATH"]).expanduser()
    else:
        config = state / CONFIG_FILE
        legacy = state / LEGACY_CONFIG_FILE
        if not config.exists() and legacy.exists():
            config = legacy
    return Paths(state_dir=state, config_path=config)

"""Clawdbot-era leftovers: the ``~/.clawdbot`` state dir, old config keys and variable names.

Migration copies, never moves or overwrites: ``~/.clawdbot`` is copied to a temporary sibling and
renamed to ``~/.moltbot`` only if that name is still free; the old directory stays for the user
to delete once the new one works.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moltbot.config import write_config
from moltbot.config.paths import CONFIG_FILE, LEGACY_CONFIG_FILE
from moltbot.config.store import get_path, set_path, unset_path
from moltbot.ops.context import OpsContext
from moltbot.ops.findings import Finding

DEPRECATED_KEYS: dict[str, str] = {
    "routing.allowFrom": "channels.whatsapp.allowFrom",
    "agent.sandbox": "agents.defaults.sandbox",
    "gateway.token": "gateway.auth.token",
    "gateway.password": "gateway.auth.password",
}
"""Old key -> where its value lives now (Clawdbot moved these)."""


def migrate_state_dir(legacy: Path, target: Path) -> str:
    """Copy ``legacy`` to ``target`` (symlinks kept as links), renaming ``clawdbot.json``."""
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target} already exists; not overwriting it")
    staging = target.with_name(f"{target.name}.migrating-{os.getpid()}")
    shutil.copytree(legacy, staging, symlinks=True)
    old_config, new_config = staging / LEGACY_CONFIG_FILE, staging / CONFIG_FILE
    if old_config.exists() and not new_config.exists():
        old_config.rename(new_config)
    os.chmod(staging, 0o700)
    if target.exists():
        shutil.rmtree(staging)
        raise FileExistsError(f"{target} appeared during the migration; not overwriting it")
    staging.rename(target)
    return f"copied {legacy} to {target} (the old directory is untouched; delete it once moltbot works)"


def legacy_dir_findings(home: Path) -> list[Finding]:
    legacy, target = home / ".clawdbot", home / ".moltbot"
    if not legacy.is_dir():
        return []
    if target.exists():
        return [
            Finding(
                "state.legacy_dir",
                "warn",
                "both ~/.clawdbot and ~/.moltbot exist",
                f"{legacy} is a Clawdbot-era state dir; moltbot uses {target}",
                f"compare the two, then archive or delete {legacy}",
            )
        ]
    return [
        Finding(
            "state.legacy_dir",
            "warn",
            "a Clawdbot-era state dir ~/.clawdbot is in use",
            f"{legacy} exists and {target} does not",
            f"migrate: copy it to {target} (moltbot doctor --fix does it without touching the original)",
            fix=lambda: migrate_state_dir(legacy, target),
        )
    ]


def deprecated_key_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    for old, new in DEPRECATED_KEYS.items():
        try:
            value = get_path(ctx.raw, old)
        except KeyError:
            continue
        try:
            get_path(ctx.raw, new)
            clash = True
        except KeyError:
            clash = False
        found.append(
            Finding(
                "config.deprecated_key",
                "warn",
                f"deprecated config key {old}",
                f"{old} was renamed to {new}" + (f"; both are set, {new} wins" if clash else ""),
                f"remove {old}" if clash else f"move the value to {new}",
                data={"key": old, "replacement": new},
                fix=None if clash else _move_key(ctx.paths.config_path, old, new, value),
            )
        )
    if ctx.paths.config_path.name == LEGACY_CONFIG_FILE:
        found.append(
            Finding(
                "config.legacy_filename",
                "info",
                "the config file has its Clawdbot-era name",
                str(ctx.paths.config_path),
                f"rename it to {CONFIG_FILE} in the same directory",
            )
        )
    return found


def _move_key(config_path: Path, old: str, new: str, value: Any) -> Any:
    def fix() -> str:
        from moltbot.config import read_raw

        raw = read_raw(config_path)
        write_config(config_path, unset_path(set_path(raw, new, value), old))
        return f"moved {old} to {new} in {config_path} (previous file kept as .bak)"

    return fix


def legacy_env_findings(env: Mapping[str, str]) -> list[Finding]:
    old = sorted(k for k in env if k.startswith("CLAWDBOT_") and f"MOLTBOT_{k[9:]}" not in env)
    if not old:
        return []
    return [
        Finding(
            "env.legacy_names",
            "info",
            "Clawdbot-era environment variables are set",
            ", ".join(old),
            "they still work; rename them to MOLTBOT_*",
        )
    ]

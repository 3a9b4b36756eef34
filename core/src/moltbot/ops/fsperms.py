"""File-permission checks on the state dir, the config and the secrets inside the state dir.

Targets (OpenClaw's, see docs/operations.md): state dir 0700, config 0600, every file under the
state dir (sessions, credentials, logs) not readable by group or others. Symlinks are reported on
their own and never followed for fixing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from moltbot.ops.findings import Finding

_SAMPLE = 5


def _chmod(path: Path, mode: int) -> str:
    old = stat.S_IMODE(path.lstat().st_mode)
    os.chmod(path, mode, follow_symlinks=False)
    return f"chmod {oct(old)[2:]} -> {oct(mode)[2:]} {path}"


def state_dir_findings(state_dir: Path) -> list[Finding]:
    if not state_dir.exists() and not state_dir.is_symlink():
        return []
    if state_dir.is_symlink():
        return [
            Finding(
                "fs.state_dir.symlink",
                "warn",
                "the state dir is a symlink",
                f"{state_dir} -> {os.readlink(state_dir)}",
                "make sure the target is on a private, local disk",
            )
        ]
    mode = stat.S_IMODE(state_dir.stat().st_mode)
    fix = lambda: _chmod(state_dir, 0o700)  # noqa: E731
    where = f"{state_dir} has mode {oct(mode)[2:]}; it should be 700"
    if mode & stat.S_IWOTH:
        return [
            Finding(
                "fs.state_dir.perms_world_writable",
                "critical",
                "anyone can write the state dir",
                where,
                f"chmod 700 {state_dir}",
                fix=fix,
            )
        ]
    if mode & stat.S_IWGRP:
        return [
            Finding(
                "fs.state_dir.perms_group_writable",
                "warn",
                "the state dir is group-writable",
                where,
                f"chmod 700 {state_dir}",
                fix=fix,
            )
        ]
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH):
        return [
            Finding(
                "fs.state_dir.perms_readable",
                "warn",
                "other users can read the state dir",
                where,
                f"chmod 700 {state_dir}",
                fix=fix,
            )
        ]
    return []


def config_findings(config_path: Path) -> list[Finding]:
    if config_path.is_symlink():
        return [
            Finding(
                "fs.config.symlink",
                "warn",
                "the config file is a symlink",
                f"{config_path} -> {os.readlink(config_path)}",
                "keep the real file private (mode 600)",
            )
        ]
    if not config_path.exists():
        return []
    mode = stat.S_IMODE(config_path.stat().st_mode)
    fix = lambda: _chmod(config_path, 0o600)  # noqa: E731
    where = f"{config_path} has mode {oct(mode)[2:]}; it should be 600 (it may hold secrets)"
    found: list[Finding] = []
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        found.append(
            Finding(
                "fs.config.perms_writable",
                "critical",
                "others can change the config file",
                where,
                f"chmod 600 {config_path}",
                fix=fix,
            )
        )
    if mode & stat.S_IROTH:
        found.append(
            Finding(
                "fs.config.perms_world_readable",
                "critical",
                "anyone can read the config file",
                where,
                f"chmod 600 {config_path}",
                fix=None if found else fix,
            )
        )
    elif mode & stat.S_IRGRP:
        found.append(
            Finding(
                "fs.config.perms_group_readable",
                "warn",
                "the group can read the config file",
                where,
                f"chmod 600 {config_path}",
                fix=None if found else fix,
            )
        )
    return found


def _exposed(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames + filenames:
            path = base / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                continue
            if info.st_mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
                yield path


def state_files_findings(state_dir: Path, skip: tuple[Path, ...] = ()) -> list[Finding]:
    """Sessions, credentials and logs under the state dir readable by others."""
    if not state_dir.is_dir():
        return []
    exposed = [p for p in _exposed(state_dir) if p not in skip]
    if not exposed:
        return []

    def fix() -> str:
        for path in exposed:
            os.chmod(path, 0o700 if path.is_dir() else 0o600, follow_symlinks=False)
        return f"chmod 600 (files) / 700 (dirs) on {len(exposed)} entries under {state_dir}"

    sample = ", ".join(str(p.relative_to(state_dir)) for p in exposed[:_SAMPLE])
    more = f" and {len(exposed) - _SAMPLE} more" if len(exposed) > _SAMPLE else ""
    return [
        Finding(
            "fs.state_files.perms_readable",
            "warn",
            "files under the state dir are readable by other users",
            f"{len(exposed)} entries: {sample}{more}",
            "chmod 600 for files and 700 for directories under the state dir",
            data={"count": len(exposed), "paths": [str(p) for p in exposed[:50]]},
            fix=fix,
        )
    ]


def permission_findings(state_dir: Path, config_path: Path) -> list[Finding]:
    found = state_dir_findings(state_dir) + config_findings(config_path)
    return found + state_files_findings(state_dir, skip=(config_path,))

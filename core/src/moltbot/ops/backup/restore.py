"""``backup restore``: verify, extract into hidden staging dirs, then swap into place.

Nothing is overwritten without ``force``; with it, what was there is renamed to
``<name>.pre-restore-<time>`` (never deleted). Members pass our own checks (:mod:`.verify`) and
``tarfile.data_filter``; files are created with ``O_EXCL | O_NOFOLLOW`` inside the staging dir.
A failure at any point removes the staging dirs and leaves the destinations untouched.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from moltbot.ops.backup.layout import BackupError
from moltbot.ops.backup.verify import Writer, scan, target_inside, verify


@dataclass
class RestorePlan:
    """Where each archive root goes. ``config`` is a directory receiving the config file(s)."""

    state: Path
    config: Path
    workspace: Path
    carry: tuple[Path, ...] = ()
    """Paths inside the old state dir to move into the restored one (the backup dir)."""
    moved_aside: list[Path] = field(default_factory=list)

    def root(self, name: str) -> Path:
        return {"state": self.state, "config": self.config, "workspace": self.workspace}[name]


def _non_empty(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def conflicts(plan: RestorePlan, manifest: dict) -> list[Path]:
    roots = {e["path"].split("/", 1)[0] for e in manifest["entries"]}
    out = [plan.root(r) for r in ("state", "workspace") if r in roots and _non_empty(plan.root(r))]
    for entry in manifest["entries"]:
        if entry["path"].startswith("config/") and entry["type"] == "file":
            target = plan.config / entry["path"].split("/", 1)[1]
            if target.exists():
                out.append(target)
    return out


class _Extractor:
    """The scan sink: writes accepted members under per-root staging dirs."""

    def __init__(self, plan: RestorePlan) -> None:
        self.plan = plan
        self.staging: dict[str, Path] = {}

    def stage(self, root: str) -> Path:
        if root not in self.staging:
            dest = self.plan.root(root)
            dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = dest.parent / f".{dest.name}.restore-{os.getpid()}"
            if root == "config":
                path = dest / f".config.restore-{os.getpid()}"
                dest.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(mode=0o700)
            self.staging[root] = path
        return self.staging[root]

    def __call__(self, member: tarfile.TarInfo) -> Writer | None:
        root, _, rel = member.name.partition("/")
        stage = self.stage(root)
        if not rel:
            return None
        checked = tarfile.data_filter(member.replace(name=rel, deep=False), str(stage))
        target = target_inside(stage, rel)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if member.isdir():
            target.mkdir(mode=0o700, exist_ok=True)
            return None
        if member.issym():
            os.symlink(member.linkname, target)
            return None
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        os.fchmod(fd, (checked.mode or 0o600) & 0o700 | 0o600)
        return os.fdopen(fd, "wb")

    def discard(self) -> None:
        for path in self.staging.values():
            shutil.rmtree(path, ignore_errors=True)


def _aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.pre-restore-{stamp}")
    os.rename(path, aside)
    return aside


def _swap(extractor: _Extractor, plan: RestorePlan) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for root, stage in extractor.staging.items():
        dest = plan.root(root)
        if root == "config":
            for item in stage.iterdir():
                final = dest / item.name
                if final.exists():
                    plan.moved_aside.append(_aside(final, stamp))
                os.replace(item, final)
            stage.rmdir()
            continue
        old = None
        if dest.exists():
            old = _aside(dest, stamp)
            plan.moved_aside.append(old)
        os.rename(stage, dest)
        if old is not None and root == "state":
            for keep in plan.carry:
                src = old / keep.relative_to(dest) if keep.is_relative_to(dest) else None
                if src is not None and src.exists() and not keep.exists():
                    keep.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    os.rename(src, keep)


def restore(archive: Path, plan: RestorePlan, *, force: bool = False) -> dict:
    """Restore ``archive`` according to ``plan``; returns the manifest."""
    manifest = verify(archive)
    clash = conflicts(plan, manifest)
    if clash and not force:
        raise BackupError(
            "refusing to overwrite existing data (use --force; old data is kept aside)",
            [str(p) for p in clash],
        )
    need = int(manifest.get("totalBytes", 0))
    free = shutil.disk_usage(_existing(plan.state)).free
    if need > free:
        raise BackupError(f"the archive needs {need} bytes but only {free} are free at {plan.state}")
    extractor = _Extractor(plan)
    try:
        scan(archive, extractor)
        _swap(extractor, plan)
    except BaseException:
        extractor.discard()
        raise
    return manifest


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path

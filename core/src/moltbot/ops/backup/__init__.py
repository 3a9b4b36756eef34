"""Backups of config, workspace and state as ``.tar.gz`` archives with a SHA-256 manifest.

Layout of an archive: ``state/...``, ``config/<file>`` (when the config lives outside the state
dir), ``workspace/...`` (when outside the state dir), and ``manifest.json`` last.
"""

from moltbot.ops.backup.create import create_backup
from moltbot.ops.backup.layout import BackupError, Sources, archive_name, backup_dir, list_archives
from moltbot.ops.backup.prune import prune
from moltbot.ops.backup.restore import restore
from moltbot.ops.backup.verify import verify

__all__ = [
    "BackupError",
    "Sources",
    "archive_name",
    "backup_dir",
    "create_backup",
    "list_archives",
    "prune",
    "restore",
    "verify",
]

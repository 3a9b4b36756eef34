"""The bubblewrap command line for a sandboxed command.

Read-only ``/usr`` (and the ``/bin``, ``/lib*`` links into it) plus a few ``/etc`` files, a
private ``/tmp``, ``/proc`` and ``/dev``, the workspace bound read-write at its own path, every
namespace unshared (no network unless asked), no capabilities even when the gateway runs as
root, a fresh session and a cleared environment. The
sandbox dies with its parent, so killing ``bwrap`` kills everything inside.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from moltbot.interfaces.tool import ToolError

ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = (
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
)
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
MISSING = (
    "this session is sandboxed and sandboxed commands run in bubblewrap, but `bwrap` was not found"
    " on PATH; install the 'bubblewrap' package. The command was NOT run."
)


def find_bwrap() -> str:
    """The ``bwrap`` executable on the gateway's ``PATH``, or a :class:`ToolError` saying so."""
    found = shutil.which("bwrap", path=os.environ.get("PATH", ""))
    if not found:
        raise ToolError(MISSING)
    return found


def bwrap_argv(
    bwrap: str,
    *,
    workspace: Path,
    cwd: Path,
    env: Mapping[str, str],
    network: bool,
    argv: list[str],
) -> list[str]:
    args = [bwrap, "--ro-bind", "/usr", "/usr"]
    for path in ROOT_LINKS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in ETC:
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    args += ["--bind", str(workspace), str(workspace), "--chdir", str(cwd)]
    args += ["--unshare-all", *(["--share-net"] if network else [])]
    args += ["--cap-drop", "ALL", "--die-with-parent", "--new-session", "--clearenv"]
    inside = {**env, "PATH": SANDBOX_PATH, "HOME": str(workspace), "TMPDIR": "/tmp"}
    for name, value in sorted(inside.items()):
        args += ["--setenv", name, value]
    return [*args, "--", *argv]

"""Where third-party plugins came from (best effort, from PEP 610 ``direct_url.json``).

Installed from an index with a version: fine. From a URL archive: warn (no pinned hash is
recorded). Editable from a directory outside this checkout: warn (code can change under the
gateway). A VCS install without a recorded commit: warn. Also: third-party plugins load while
``plugins.allow`` is unset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import importlib_metadata

from moltbot.ops.context import OpsContext
from moltbot.ops.findings import Finding
from moltbot.plugins import ENTRY_POINT_GROUP


def _repo_root() -> Path:
    """The checkout moltbot-core runs from (``core/src/moltbot`` -> repo root), if editable."""
    return Path(__file__).resolve().parents[4]


def plugin_distributions() -> list[importlib_metadata.Distribution]:
    seen: dict[str, importlib_metadata.Distribution] = {}
    for ep in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is not None:
            seen.setdefault(ep.dist.name, ep.dist)
    return list(seen.values())


def source_problem(dist: importlib_metadata.Distribution, repo: Path) -> str | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        info = json.loads(text)
    except ValueError:
        return "direct_url.json is unreadable"
    url = str(info.get("url", ""))
    parts = urlsplit(url)
    if "vcs_info" in info:
        return None if info["vcs_info"].get("commit_id") else f"installed from {url} without a pinned commit"
    if info.get("dir_info", {}).get("editable"):
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not path.is_relative_to(repo):
            return f"editable install from {url}, outside this checkout ({repo})"
        return None
    if parts.scheme in ("http", "https"):
        hashes = info.get("archive_info", {}).get("hashes") or info.get("archive_info", {}).get("hash")
        return None if hashes else f"installed from {url} with no recorded hash"
    return None


def plugin_source_findings(
    ctx: OpsContext,
    distributions: Iterable[importlib_metadata.Distribution] | None = None,
    repo: Path | None = None,
) -> list[Finding]:
    dists = list(plugin_distributions() if distributions is None else distributions)
    repo = repo or _repo_root()
    found: list[Finding] = []
    for dist in dists:
        problem = source_problem(dist, repo)
        if problem:
            found.append(
                Finding(
                    "plugins.unpinned_source",
                    "warn",
                    f"plugin {dist.name} comes from an unpinned source",
                    problem,
                    "install a released version from the package index (or pin a commit), then restart",
                    data={"distribution": dist.name},
                )
            )
    third_party = [d.name for d in dists if d.name != "moltbot-core"]
    if third_party and ctx.get("plugins.allow") is None:
        found.append(
            Finding(
                "plugins.no_allowlist",
                "info",
                "every installed plugin loads",
                f"plugins.allow is unset; third-party: {', '.join(sorted(third_party))}",
                "list the plugins you expect in plugins.allow",
            )
        )
    return found

"""``moltbot doctor``: system facts plus health checks, each with a stable id and a safe fix."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moltbot.ops import fsperms, legacy
from moltbot.ops.context import OpsContext
from moltbot.ops.credentials import channel_credential_findings, model_credential_findings
from moltbot.ops.findings import Finding, Report
from moltbot.ops.portcheck import bind_host, listener_of, looks_like_gateway, port_in_use
from moltbot.ops.sysinfo import DiskInfo, SystemInfo, as_json, disk_usage, system_info

LOW_MEMORY_RATIO = 0.10
LOW_DISK_BYTES = 1024**3
LOW_DISK_RATIO = 0.05
CRITICAL_DISK_BYTES = 200 * 1024**2


@dataclass
class Machine:
    """The measured facts checks judge; tests build one with chosen numbers."""

    system: SystemInfo
    disk: DiskInfo
    extra: dict[str, Any] = field(default_factory=dict)


def memory_findings(info: SystemInfo) -> list[Finding]:
    if info.total_memory and info.available_memory / info.total_memory < LOW_MEMORY_RATIO:
        mb = info.available_memory / 1024**2
        return [
            Finding(
                "system.low_memory",
                "warn",
                "low memory available",
                f"only {mb:.0f} MB of {info.total_memory / 1024**2:.0f} MB available (< 10%)",
                "close other programs, lower performance.agents.maxConcurrentRuns, or add memory",
                data={"available": info.available_memory, "total": info.total_memory},
            )
        ]
    return []


def disk_findings(disk: DiskInfo) -> list[Finding]:
    low = disk.free < LOW_DISK_BYTES or (disk.total and disk.free / disk.total < LOW_DISK_RATIO)
    if not low:
        return []
    severity = "error" if disk.free < CRITICAL_DISK_BYTES else "warn"
    return [
        Finding(
            "system.low_disk",
            severity,
            "low disk space on the state dir's volume",
            f"{disk.free / 1024**2:.0f} MB free of {disk.total / 1024**3:.1f} GB at {disk.path}",
            "free space (moltbot backup prune, old logs) before sessions can no longer be written",
            data={"path": disk.path, "free": disk.free, "total": disk.total},
        )
    ]


def port_findings(ctx: OpsContext) -> list[Finding]:
    port = ctx.port()
    host = bind_host(ctx.get("gateway.bind", "loopback"), ctx.get("gateway.customBindHost"))
    try:
        busy = port_in_use(host, port)
    except OSError as exc:
        return [
            Finding(
                "gateway.bind_failed",
                "error",
                f"cannot bind {host}:{port}",
                str(exc),
                "check gateway.bind / gateway.customBindHost",
            )
        ]
    if not busy:
        return []
    owner = listener_of(port)
    who = f"pid {owner.pid} ({owner.name})" if owner and owner.pid else "a process this user cannot see"
    data = {
        "host": host,
        "port": port,
        "pid": owner.pid if owner else None,
        "process": owner.name if owner else None,
    }
    if looks_like_gateway(owner):
        return [
            Finding("gateway.running", "info", f"the gateway is running on port {port}", who, "", data=data)
        ]
    return [
        Finding(
            "gateway.port_in_use",
            "error",
            f"gateway port {port} is already in use",
            f"{host}:{port} is taken by {who}",
            "stop that process or choose another gateway.port (or MOLTBOT_GATEWAY_PORT)",
            data=data,
        )
    ]


def config_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    if not ctx.paths.config_path.exists():
        found.append(
            Finding(
                "config.missing",
                "info",
                "no config file; defaults apply",
                str(ctx.paths.config_path),
                "moltbot config template --secure prints a start",
            )
        )
    if ctx.config_problems:
        found.append(
            Finding(
                "config.invalid",
                "error",
                "the config file is invalid",
                "; ".join(f"{p or '(root)'}: {m}" for p, m in ctx.config_problems),
                "fix the listed keys (moltbot config validate re-checks)",
                data={"problems": [{"path": p, "message": m} for p, m in ctx.config_problems]},
            )
        )
    return found + legacy.deprecated_key_findings(ctx)


def _mkdir(path: Path) -> Callable[[], str]:
    def fix() -> str:
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        return f"created {path} (mode 700)"

    return fix


def directory_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    if not ctx.state_dir.exists():
        found.append(
            Finding(
                "state.missing",
                "warn",
                "the state dir does not exist",
                str(ctx.state_dir),
                "create it (mode 700)",
                fix=_mkdir(ctx.state_dir),
            )
        )
    elif not os.access(ctx.state_dir, os.W_OK | os.X_OK):
        found.append(
            Finding(
                "state.not_writable",
                "error",
                "the state dir is not writable",
                str(ctx.state_dir),
                f"chown it to this user: sudo chown -R $(id -u) {ctx.state_dir}",
            )
        )
    workspace = ctx.workspace()
    if not workspace.is_dir():
        found.append(
            Finding(
                "workspace.missing",
                "warn",
                "the agent workspace does not exist",
                str(workspace),
                "create it (mode 700) or set agents.defaults.workspace",
                fix=_mkdir(workspace),
            )
        )
    return found


def plugin_findings(ctx: OpsContext) -> list[Finding]:
    if ctx.plugins is None:
        return []
    return [
        Finding(
            "plugins.load_failed",
            "error",
            f"plugin {r.name} failed to load",
            f"{r.distribution} {r.version}: {r.reason}",
            "upgrade or uninstall the distribution, or add it to plugins.deny",
            data={"plugin": r.name, "distribution": r.distribution},
        )
        for r in ctx.plugins.records()
        if r.status == "failed"
    ]


def sandbox_findings(ctx: OpsContext, which: Callable[[str], str | None] = shutil.which) -> list[Finding]:
    mode = ctx.get("agents.defaults.sandbox.mode", "non-main")
    if mode == "off" or which("bwrap"):
        return []
    return [
        Finding(
            "sandbox.bwrap_missing",
            "error",
            "sandboxing is on but bubblewrap is not installed",
            f"agents.defaults.sandbox.mode is {mode!r} and no `bwrap` is on PATH",
            "install bubblewrap (apt install bubblewrap / dnf install bubblewrap)",
        )
    ]


def run_checks(ctx: OpsContext, machine: Machine, home: Path) -> list[Finding]:
    return [
        *memory_findings(machine.system),
        *disk_findings(machine.disk),
        *config_findings(ctx),
        *directory_findings(ctx),
        *fsperms.permission_findings(ctx.state_dir, ctx.paths.config_path),
        *port_findings(ctx),
        *plugin_findings(ctx),
        *channel_credential_findings(ctx),
        *model_credential_findings(ctx),
        *sandbox_findings(ctx),
        *legacy.legacy_dir_findings(home),
        *legacy.legacy_env_findings(ctx.env),
    ]


def measure(ctx: OpsContext) -> Machine:
    return Machine(system=system_info(), disk=disk_usage(ctx.state_dir))


def doctor(ctx: OpsContext, home: Path, machine: Machine | None = None) -> Report:
    """The full report: sections (system, process, network, storage) and findings."""
    from moltbot.ops.sysinfo import network_addresses, process_info, storage_info

    machine = machine or measure(ctx)
    sections = {
        "system": as_json(machine.system),
        "process": process_info(),
        "network": {"addresses": network_addresses()},
        "storage": storage_info(ctx.state_dir, ctx.paths.config_path, ctx.workspace()),
    }
    return Report("doctor", run_checks(ctx, machine, home), sections=sections)

"""Facts about the machine and this process (the seed's ``Diagnostics`` sections, for real)."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from moltbot import __version__

ENV_SHOWN = ("MOLTBOT_STATE_DIR", "MOLTBOT_CONFIG_PATH", "MOLTBOT_GATEWAY_PORT", "MOLTBOT_AGENT_MODEL")


@dataclass(frozen=True)
class SystemInfo:
    platform: str
    arch: str
    release: str
    hostname: str
    uptime_seconds: float
    cpu_count: int
    total_memory: int
    available_memory: int
    load_average: tuple[float, float, float]
    python_version: str
    moltbot_version: str


@dataclass(frozen=True)
class DiskInfo:
    path: str
    total: int
    used: int
    free: int


def system_info() -> SystemInfo:
    memory = psutil.virtual_memory()
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return SystemInfo(
        platform=sys.platform,
        arch=platform.machine(),
        release=platform.release(),
        hostname=socket.gethostname(),
        uptime_seconds=round(time.time() - psutil.boot_time(), 1),
        cpu_count=psutil.cpu_count() or 1,
        total_memory=memory.total,
        available_memory=memory.available,
        load_average=(round(load[0], 2), round(load[1], 2), round(load[2], 2)),
        python_version=platform.python_version(),
        moltbot_version=__version__,
    )


def process_info() -> dict[str, Any]:
    proc = psutil.Process()
    with proc.oneshot():
        mem = proc.memory_info()
        return {
            "pid": proc.pid,
            "rss": mem.rss,
            "vms": mem.vms,
            "uptimeSeconds": round(time.time() - proc.create_time(), 1),
            "argv": list(sys.argv),
            "executable": sys.executable,
            "env": {k: os.environ[k] for k in ENV_SHOWN if k in os.environ},
        }


def network_addresses() -> list[dict[str, str]]:
    """Non-internal IPv4 addresses with their interface name and MAC, as the seed lists them."""
    out: list[dict[str, str]] = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        mac = next((a.address for a in addrs if a.family == psutil.AF_LINK), "")
        for addr in addrs:
            if addr.family == socket.AF_INET and not addr.address.startswith("127."):
                out.append({"name": name, "address": addr.address, "family": "IPv4", "mac": mac})
    return out


def disk_usage(path: Path) -> DiskInfo:
    """Usage of the volume holding ``path`` (its nearest existing ancestor if it does not exist)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskInfo(path=str(probe), total=usage.total, used=usage.used, free=usage.free)


def storage_info(state_dir: Path, config_path: Path, workspace: Path) -> dict[str, Any]:
    return {
        "homeDir": str(Path.home()),
        "tempDir": tempfile.gettempdir(),
        "stateDir": str(state_dir),
        "configPath": str(config_path),
        "workspace": str(workspace),
        "stateVolume": asdict(disk_usage(state_dir)),
    }


def as_json(info: SystemInfo) -> dict[str, Any]:
    data = asdict(info)
    return {_camel(k): v for k, v in data.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)

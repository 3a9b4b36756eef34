"""Is a TCP port free, and if not, which process listens on it (when the OS tells us)."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class PortOwner:
    pid: int | None
    name: str
    cmdline: str


def bind_host(bind: str, custom_host: str | None) -> str:
    """The address the gateway would bind for ``gateway.bind``."""
    if bind == "lan":
        return "0.0.0.0"
    if bind == "custom" and custom_host:
        return custom_host
    return "127.0.0.1"


def port_in_use(host: str, port: int) -> bool:
    """True when binding ``host:port`` fails with EADDRINUSE (TIME_WAIT is ignored, as servers do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def listener_of(port: int) -> PortOwner | None:
    """The process listening on ``port``, or None when it cannot be seen (other user, macOS)."""
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, PermissionError):
        return None
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return PortOwner(None, "?", "")
            try:
                proc = psutil.Process(conn.pid)
                return PortOwner(conn.pid, proc.name(), " ".join(proc.cmdline()))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return PortOwner(conn.pid, "?", "")
    return None


def looks_like_gateway(owner: PortOwner | None) -> bool:
    """A ``moltbot run`` process: the gateway itself, not a conflict."""
    if owner is None:
        return False
    words = owner.cmdline.split()
    return any(w.endswith("moltbot") for w in words) and "run" in words

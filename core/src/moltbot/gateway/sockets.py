"""Aborting one client's TCP connection from under the ASGI server.

Hypercorn shields its socket writes from cancellation, so a client that stops reading would
pin its connection (and a graceful shutdown) forever. Shutting the socket down makes the
blocked write fail at once, and hypercorn then cleans the connection up itself.
"""

from __future__ import annotations

import contextlib
import os
import socket

from loguru import logger

Address = tuple[str, int]


def _same(a: object, b: Address) -> bool:
    return isinstance(a, tuple) and len(a) >= 2 and a[0] == b[0] and a[1] == b[1]


def abort_connection(local: Address | None, peer: Address | None) -> bool:
    """Shut down the process's TCP socket connecting ``local`` to ``peer``; True if found.

    Linux only (walks ``/proc/self/fd``); elsewhere the kernel's own timeouts end the socket.
    """
    if local is None or peer is None or not os.path.isdir("/proc/self/fd"):
        return False
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            dup = os.dup(int(name))
        except OSError:
            continue
        sock = socket.socket(fileno=dup)
        try:
            if _same(sock.getpeername(), peer) and _same(sock.getsockname(), local):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                logger.debug("aborted the TCP connection of {}:{}", *peer)
                return True
        except OSError:
            continue
        finally:
            sock.close()
    return False

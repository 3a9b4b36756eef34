"""The transport interface: something that exposes the gateway beyond loopback (Tailscale…)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import trio


@dataclass(frozen=True, kw_only=True)
class GatewayEndpoint:
    """Where the gateway listens and how clients authenticate, for the transport to expose."""

    host: str
    port: int
    tls: bool
    auth_mode: str


class Transport(ABC):
    """Exposes the gateway while ``run`` is running.

    Resource handling:
        ``run`` sets the exposure up, calls ``task_status.started()``, and undoes it (when the
        config asks for that) when cancelled. It must also clean up what a crashed previous run
        left behind before setting up again.

    Error handling:
        Refusing an unsafe setup (e.g. public exposure without password auth) is an exception
        raised before ``started()``, which stops the gateway from starting.
    """

    @abstractmethod
    async def run(
        self,
        endpoint: GatewayEndpoint,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Expose ``endpoint`` until cancelled."""

    def status(self) -> dict[str, Any]:
        """A JSON-friendly status for ``moltbot status`` and the security audit."""
        return {}

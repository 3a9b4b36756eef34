"""The service interface: a subsystem that runs for the life of the gateway process."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import trio


class Service(ABC):
    """A long-running part of the gateway process.

    Resource handling:
        ``run`` sets up, calls ``task_status.started()`` once the service can be used, and
        releases everything when cancelled (cancellation is shutdown).

    Error handling:
        Exceptions propagate and stop the gateway; a service that wants retries implements
        them inside ``run`` with an explicit policy.
    """

    @abstractmethod
    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run until cancelled."""

    def apply_settings(self, settings: Any) -> None:  # noqa: B027 - optional capability
        """Take a hot-reloaded config (sync, must not block). By default a service keeps what
        it built at start; the reloader reports changed paths outside its live list as
        needing a restart."""

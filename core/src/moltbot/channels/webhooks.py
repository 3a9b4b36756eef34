"""Hand-off from webhook HTTP routes to the running channel instance that owns them.

HTTP routes are registered when plugins load, long before (and independently of) the channel
object the channels service builds from config, and a Starlette handler only gets the request.
So a channel that receives webhooks registers itself here for as long as its ``run`` is up::

    with webhooks.serving("whatsapp", self):
        task_status.started()
        ...

and its route looks it up with :func:`receiver` (one account) or :func:`receivers` (all of a
channel's accounts, for platforms that post every account's events to one URL). No receiver
means the channel is not running (disabled, restarting, or stopped): the route answers 503 so
the platform redelivers later. The registry is per process, like the gateway port the routes
live on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_receivers: dict[tuple[str, str], Any] = {}


@contextlib.contextmanager
def serving(name: str, receiver: Any, account: str = "default") -> Iterator[None]:
    """Make ``receiver`` the target of ``name``'s webhook routes for ``account`` while the
    block runs."""
    key = (name, account)
    if _receivers.get(key) not in (None, receiver):
        raise RuntimeError(
            f"another {name!r} channel (account {account!r}) already receives its webhooks here"
        )
    _receivers[key] = receiver
    try:
        yield
    finally:
        if _receivers.get(key) is receiver:
            del _receivers[key]


def receiver(name: str, account: str = "default") -> Any | None:
    """The running channel registered for ``name`` and ``account``, if any."""
    return _receivers.get((name, account))


def receivers(name: str) -> dict[str, Any]:
    """Every running account of channel ``name``, by account id."""
    return {account: r for (channel, account), r in _receivers.items() if channel == name}

"""Hand-off from webhook HTTP routes to the running channel instance that owns them.

HTTP routes are registered when plugins load, long before (and independently of) the channel
object the channels service builds from config, and a Starlette handler only gets the request.
So a channel that receives webhooks registers itself here for as long as its ``run`` is up::

    with webhooks.serving("whatsapp", self):
        task_status.started()
        ...

and its route looks it up with :func:`receiver`. No receiver means the channel is not running
(disabled, restarting, or stopped): the route answers 503 so the platform redelivers later.
The registry is per process, like the gateway port the routes live on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_receivers: dict[str, Any] = {}


@contextlib.contextmanager
def serving(name: str, receiver: Any) -> Iterator[None]:
    """Make ``receiver`` the target of ``name``'s webhook routes while the block runs."""
    if _receivers.get(name) not in (None, receiver):
        raise RuntimeError(f"another {name!r} channel already receives its webhooks in this process")
    _receivers[name] = receiver
    try:
        yield
    finally:
        if _receivers.get(name) is receiver:
            del _receivers[name]


def receiver(name: str) -> Any | None:
    """The running channel registered for ``name``, if any."""
    return _receivers.get(name)

"""moltbot-tailscale: registers the ``tailscale`` transport. Kept tiny; the work is in
:mod:`moltbot_tailscale.transport`, imported by the factory."""

from collections.abc import Iterator
from typing import Any

import moltbot


def _build(config: Any, ctx: moltbot.BuildContext) -> moltbot.Transport:
    from moltbot_tailscale.transport import TailscaleTransport

    return TailscaleTransport.from_context(ctx)


@moltbot.hookimpl
def moltbot_register_transports() -> Iterator[moltbot.TransportSpec]:
    yield moltbot.TransportSpec(
        name="tailscale",
        factory=_build,
        summary="Tailscale Serve (tailnet) or Funnel (internet) in front of the gateway; "
        "configured by gateway.tailscale",
    )

"""The gateway: one trio process serving OpenClaw's WebSocket protocol v4 and HTTP on one port."""

from moltbot.gateway.server import Gateway

__all__ = ["Gateway"]

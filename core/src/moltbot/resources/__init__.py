"""Admission control for agent runs, exec processes and browser instances (``app.services["resources"]``)."""

from moltbot.resources.manager import Lease, ResourceManager, Shedder

__all__ = [
    "Lease",
    "ResourceManager",
    "Shedder",
]

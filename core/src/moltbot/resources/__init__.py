"""Admission control for agent runs, exec processes and browser instances (``app.services["resources"]``)."""

from moltbot.resources.manager import Lease, ResourceManager, Shedder
from moltbot.resources.probe import FixedProbe, PsutilProbe, SystemProbe, SystemSnapshot

__all__ = [
    "FixedProbe",
    "Lease",
    "PsutilProbe",
    "ResourceManager",
    "Shedder",
    "SystemProbe",
    "SystemSnapshot",
]

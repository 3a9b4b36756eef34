"""The alert-sink interface: where monitoring alerts are delivered."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from moltbot.app import App


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A threshold crossing (or its end), in the seed's ``Alert`` shape plus a state."""

    level: Literal["warning", "critical"]
    metric: str
    current_value: float
    threshold: float
    message: str
    state: Literal["firing", "resolved"] = "firing"
    time: datetime


class AlertSink(ABC):
    """Delivers alerts.

    Error handling:
        ``send`` raises on failure; the monitor logs it and still delivers to the other sinks.
    """

    @abstractmethod
    async def send(self, alert: Alert) -> None:
        """Deliver one alert."""

    def attach(self, app: App) -> None:  # noqa: B027 - optional
        """Called once right after the sink is built, with the app whose subsystems it may use
        (the ``channel`` sink sends through ``app.services["channels"]``)."""

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Release connections."""

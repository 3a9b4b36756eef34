"""The alert-sink interface: where monitoring alerts are delivered."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


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

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Release connections."""

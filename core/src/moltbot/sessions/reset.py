"""Reset policies: whether a session is stale (daily at a local hour, or idle too long) and the
next inbound message should start a fresh session under the same key."""

from __future__ import annotations

from datetime import datetime, timedelta

from moltbot.config.model import ResetConfig, SessionConfig
from moltbot.sessions.keys import parse_key


def policy_for(config: SessionConfig, key: str) -> ResetConfig:
    """``session.resetByType`` for the key's kind (thread, group, dm; main counts as dm),
    falling back to ``session.reset``."""
    parsed = parse_key(key)
    by_type = config.reset_by_type
    if parsed.thread and by_type.thread:
        return by_type.thread
    if parsed.chat == "group" and by_type.group:
        return by_type.group
    if parsed.chat in ("dm", "main") and by_type.dm:
        return by_type.dm
    return config.reset


def last_daily_boundary(now: datetime, at_hour: int) -> datetime:
    """The most recent ``at_hour``:00 at or before ``now``, in ``now``'s time zone."""
    boundary = now.replace(hour=at_hour, minute=0, second=0, microsecond=0)
    return boundary if boundary <= now else boundary - timedelta(days=1)


def expiry_reason(policy: ResetConfig, last_interaction: str | None, now: datetime) -> str | None:
    """``"daily"`` or ``"idle"`` when a session last used at ``last_interaction`` (ISO time) has
    expired at ``now``; ``None`` when it is still fresh (or never had a message)."""
    if policy.mode == "none" or last_interaction is None:
        return None
    last = datetime.fromisoformat(last_interaction)
    if policy.mode == "daily" and last < last_daily_boundary(now, policy.at_hour):
        return "daily"
    if policy.idle_minutes is not None and now - last >= timedelta(minutes=policy.idle_minutes):
        return "idle"
    return None

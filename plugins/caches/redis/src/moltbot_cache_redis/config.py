"""The ``cache.config`` model for Redis, kept apart from the backend so that validating the
config never imports coredis (which costs a quarter second at every start)."""

from __future__ import annotations

from pydantic import Field

from moltbot import StrictModel


class RedisCacheConfig(StrictModel):
    url: str = "redis://127.0.0.1:6379/0"
    """``redis://[:password@]host:port/db`` (``rediss://`` for TLS)."""
    key_prefix: str = "moltbot:cache:"
    """Put in front of every key; gateways sharing a cache use the same prefix."""
    connect_timeout: int = Field(2000, ge=1)
    """Milliseconds to wait for a connection."""
    timeout: int = Field(2000, ge=1)
    """Milliseconds to wait for a reply."""

"""The cache-backend interface: the second level behind the in-memory LRU."""

from __future__ import annotations

from abc import ABC, abstractmethod


class CacheBackend(ABC):
    """A byte store with per-entry TTL, shared by namespaced keys.

    Invariants:
        Keys are ``"<namespace>:<hash>"`` strings built by the cache in core. ``get`` never
        returns an expired value. Values are opaque bytes (the cache serializes them as JSON;
        nothing is unpickled).

    Error handling:
        Backends raise on I/O failure; the cache treats a failing backend as a miss and
        logs it rather than failing the caller.

    Optional extras (used when present, see :func:`moltbot.cache.opened` and
    :class:`moltbot.cache.SupportsStats`):
        ``__aenter__``/``__aexit__``: the cache service and ``moltbot cache`` hold the backend
        inside ``async with backend:`` for as long as they use it, for clients whose connection
        pool is bound to the task that opened it (coredis); ``aclose`` is still called after.

        ``async stats() -> dict``: what the backend holds, ``{"entries": int, "bytes": int |
        None, "namespaces": {ns: {"entries": int, ...}}, ...}``, shown by ``moltbot cache stats``
        and the ``cache.stats`` gateway method; without it ``cache.stats`` omits the backend's
        figures and ``moltbot cache stats`` without a gateway says the backend cannot report.
    """

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The value, or ``None`` when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """Store ``value``; ``ttl`` in seconds, ``None`` for no expiry."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    @abstractmethod
    async def clear(self, prefix: str = "") -> int:
        """Remove every key starting with ``prefix``; return how many were removed."""

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Release files or connections."""

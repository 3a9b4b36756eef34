"""The multi-level cache: memory LRU in front of a backend plugin (``app.services["cache"]``).

Subsystems keep a namespace view: ``sessions = app.services["cache"].namespace("sessions")``,
then ``await sessions.set(key, value, ttl=60)`` and ``await sessions.get(key)``.
"""

from moltbot.cache.build import SupportsStats, build_backend
from moltbot.cache.codec import check_namespace
from moltbot.cache.memory import MemoryLRU
from moltbot.cache.multilevel import Cache, CacheNamespace, opened

__all__ = [
    "Cache",
    "CacheNamespace",
    "MemoryLRU",
    "SupportsStats",
    "build_backend",
    "check_namespace",
    "opened",
]

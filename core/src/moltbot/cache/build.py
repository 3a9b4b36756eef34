"""Building the configured backend from its plugin, for the cache service and the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from moltbot.config.model import Settings
from moltbot.errors import ConfigError
from moltbot.interfaces.cache import CacheBackend
from moltbot.plugins import Plugins
from moltbot.specs import BuildContext


@runtime_checkable
class SupportsStats(Protocol):
    """Backends that can count what they hold (``moltbot cache stats``)."""

    async def stats(self) -> dict[str, Any]:
        """``{"entries": int, "bytes": int | None, "namespaces": {ns: {"entries": int}}, ...}``."""
        ...


def build_backend(settings: Settings, plugins: Plugins, state_dir: Path) -> CacheBackend:
    """The backend named by ``cache.backend``, with its validated ``cache.config`` section.

    Its files live under ``<state dir>/cache``."""
    name = settings.cache.backend
    specs = plugins.cache_backends()
    spec = specs.get(name)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none"
        raise ConfigError(
            [("cache.backend", f"no cache backend named {name!r} is installed (installed: {known})")]
        )
    config = spec.config.model_validate(settings.cache.config)
    return spec.factory(config, BuildContext(name=name, state_dir=state_dir / "cache", settings=settings))

"""moltbot-core's own plugins, registered through the same path as installed ones.

Every public module in this package is one plugin named ``core-<module>``; adding a built-in is
adding a module. They show up in ``moltbot plugins`` as coming from ``moltbot-core`` and obey
``plugins.deny`` like any other plugin.
"""

from __future__ import annotations

import pkgutil


def default_plugins() -> list[tuple[str, str]]:
    """``(plugin name, module name)`` for each built-in, in a stable order."""
    return [
        (f"core-{info.name.replace('_', '-')}", f"{__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]

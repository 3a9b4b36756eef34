"""moltbot-core's own plugins, registered through the same path as installed ones.

Each entry is ``(plugin name, module)``. They show up in ``moltbot plugins`` as coming from
``moltbot-core`` and obey ``plugins.deny`` like any other plugin.
"""

DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core-commands", "moltbot.default_plugins.commands"),
    ("core-console", "moltbot.default_plugins.console"),
)

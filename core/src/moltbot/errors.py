"""Exceptions raised by moltbot, with messages written for the person who must act on them."""

from __future__ import annotations

EX_CONFIG = 78
"""Exit status for an unusable configuration (sysexits.h ``EX_CONFIG``); service managers use it
to stop restarting a gateway that cannot start until a human fixes the config."""


class MoltbotError(Exception):
    """Base class of every error moltbot raises on purpose."""


class ConfigError(MoltbotError):
    """The configuration cannot be used. ``problems`` lists each one as ``(path, message)``."""

    def __init__(self, problems: list[tuple[str, str]], *, source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        lines = [f"invalid configuration{where}:"]
        lines += [f"  - {path or '(root)'}: {message}" for path, message in self.problems]
        return "\n".join(lines)


class PluginError(MoltbotError):
    """A plugin could not be loaded or used."""


class PluginLoadError(PluginError):
    """A plugin failed to import or register; strict mode turns this into a fatal error."""


class PluginConflictError(PluginError):
    """Two plugins offer the same name for the same kind of component."""


class BusyError(MoltbotError):
    """A bounded resource is at its limit and the caller asked not to wait."""

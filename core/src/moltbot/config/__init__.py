"""Configuration: the schema, where the file lives, how it is read, validated and written."""

from moltbot.config.base import NoConfig, StrictModel
from moltbot.config.load import load_settings, plugin_config, read_raw, validate
from moltbot.config.model import ChannelConfig, Settings
from moltbot.config.paths import Paths, resolve_paths
from moltbot.config.store import atomic_write, content_hash, write_config

__all__ = [
    "ChannelConfig",
    "NoConfig",
    "Paths",
    "Settings",
    "StrictModel",
    "atomic_write",
    "content_hash",
    "load_settings",
    "plugin_config",
    "read_raw",
    "resolve_paths",
    "validate",
    "write_config",
]

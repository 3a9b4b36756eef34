"""What every sub-command shares: resolved paths, plugins and the validated settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import click

from moltbot.app import App
from moltbot.config import Paths, Settings, load_settings, read_raw, resolve_paths
from moltbot.daemon.envfile import environment_with_secrets
from moltbot.plugins import Plugins, load_plugins


@dataclass
class CliState:
    paths: Paths
    strict_plugins: bool = False
    no_plugins: bool = False
    debug: bool = False
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CliState:
        env = dict(os.environ)
        if params.get("state_dir"):
            env["MOLTBOT_STATE_DIR"] = str(params["state_dir"])
        if params.get("config_path"):
            env["MOLTBOT_CONFIG_PATH"] = str(params["config_path"])
        paths = resolve_paths(env)
        # Secrets onboarding stored in <state>/gateway.env resolve ${NAME} references in the
        # config for every command, as they do for the service; the real environment wins.
        env = environment_with_secrets(paths.state_dir, env)
        return cls(
            paths=paths,
            strict_plugins=bool(params.get("strict_plugins")),
            no_plugins=bool(params.get("no_plugins")),
            debug=bool(params.get("debug")),
            env=env,
        )

    @cached_property
    def plugins(self) -> Plugins:
        """Plugins, honouring ``plugins.allow``/``deny`` from the file when it is readable."""
        try:
            section = read_raw(self.paths.config_path).get("plugins", {})
        except Exception:
            section = {}
        section = section if isinstance(section, dict) else {}
        allow = section.get("allow")
        return load_plugins(
            allow=allow if isinstance(allow, list) else None,
            deny=[d for d in section.get("deny", []) if isinstance(d, str)]
            if isinstance(section.get("deny"), list)
            else (),
            strict=self.strict_plugins,
            entrypoints=not self.no_plugins,
        )

    def settings(self) -> Settings:
        """The validated config; raises ConfigError (exit 78 in ``main``)."""
        return load_settings(self.paths.config_path, self.plugins, self.env)

    def app(self) -> App:
        return App(paths=self.paths, settings=self.settings(), plugins=self.plugins)


pass_state = click.make_pass_decorator(CliState)

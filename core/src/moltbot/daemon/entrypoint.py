"""The container entrypoint: ``python -m moltbot.daemon.entrypoint [ARGS...]``.

With no arguments or only options, it runs ``moltbot gateway run ARGS`` bound to ``lan`` (the
container's port must be reachable), but only when gateway auth is configured with a secret:
an unauthenticated gateway on a published port is what got Clawdbot installs taken over. Any
other first argument is executed as-is (``docker compose run moltbot moltbot doctor``).
Secrets in ``<state dir>/gateway.env`` are loaded under the container's environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

from moltbot.config import load_settings, resolve_paths
from moltbot.daemon.definition import GATEWAY_ARGS
from moltbot.daemon.envfile import environment_with_secrets
from moltbot.errors import EX_CONFIG, ConfigError

MIN_PASSWORD = 12


def auth_problem(env: MutableMapping[str, str]) -> str | None:
    """Why the gateway must not start in a container with this config and environment."""
    paths = resolve_paths(env)
    try:
        env.update(environment_with_secrets(paths.state_dir, env))
        settings = load_settings(paths.config_path, None, env)
    except ConfigError as exc:
        return str(exc)
    auth = settings.gateway.auth
    if auth.mode == "none":
        return 'gateway.auth.mode is "none"; a container publishes the gateway\'s port, so auth is required'
    if auth.mode == "password" and not auth.password:
        return 'gateway.auth.mode is "password" but no password is set'
    if auth.mode == "token" and not auth.token:
        return "no gateway token or password is configured"
    return None


def main(argv: list[str]) -> int:
    if argv and not argv[0].startswith("-"):
        os.execvp(argv[0], argv)
    env = os.environ
    env.setdefault("MOLTBOT_GATEWAY_BIND", "lan")
    problem = auth_problem(env)
    if problem is not None:
        print(
            f"moltbot: refusing to start the gateway: {problem}.\n"
            "Set CLAWDBOT_GATEWAY_PASSWORD (or MOLTBOT_GATEWAY_PASSWORD, 12+ characters) or "
            "MOLTBOT_GATEWAY_TOKEN in the container's environment, or gateway.auth in the mounted "
            "config; see docs/deployment.md.",
            file=sys.stderr,
        )
        return EX_CONFIG
    password = env.get("MOLTBOT_GATEWAY_PASSWORD") or env.get("CLAWDBOT_GATEWAY_PASSWORD") or ""
    if password and len(password) < MIN_PASSWORD:
        print(
            f"moltbot: warning: the gateway password is shorter than {MIN_PASSWORD} characters",
            file=sys.stderr,
        )
    os.execvp("moltbot", ["moltbot", *GATEWAY_ARGS, *argv])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Auth profiles from config and environment, in rotation order."""

from __future__ import annotations

import os
from collections.abc import Mapping

from moltbot.interfaces.provider import AuthProfile
from moltbot.models.config import ProviderConfig


def resolve_profiles(
    provider_id: str,
    config: ProviderConfig,
    env_var: str | None,
    env: Mapping[str, str] | None = None,
) -> list[AuthProfile]:
    """``apiKey`` as ``<id>:default``, then each ``authProfiles`` entry as ``<id>:<name>``, and
    the environment variable as ``<id>:env`` when the config has no key at all.

    An empty list means no credential is known; providers then send no credential (local
    servers such as Ollama need none) and a server that wants one answers 401.
    """
    env = os.environ if env is None else env
    profiles: list[AuthProfile] = []
    if config.api_key:
        profiles.append(AuthProfile(id=f"{provider_id}:default", api_key=config.api_key))
    for entry in config.auth_profiles:
        profiles.append(AuthProfile(id=f"{provider_id}:{entry.id}", api_key=entry.api_key))
    if not profiles and env_var and env.get(env_var):
        profiles.append(AuthProfile(id=f"{provider_id}:env", api_key=env[env_var]))
    return profiles

"""The ``models`` config section and the agent's model choice (``agent.model``).

``models.providers.<id>`` configures one model API: which provider plugin speaks it (``api``,
default: the id itself), where (``baseUrl``) and with which credentials (``apiKey`` and
``authProfiles``). Any OpenAI-compatible server is a provider with ``api: "openai"``.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from moltbot.config.base import StrictModel

_REF_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*/\S+$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def check_model_ref(value: str) -> str:
    """Accept ``provider/model`` (the model part may itself contain slashes) or a bare alias."""
    if not value or value != value.strip() or " " in value:
        raise ValueError(f"{value!r} is not a model reference; write it as provider/model")
    return value


class ModelCostConfig(StrictModel):
    """Prices in US dollars per million tokens, as providers publish them."""

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cache_read: float | None = Field(None, ge=0)
    """Defaults to the input price."""
    cache_write: float | None = Field(None, ge=0)
    """Defaults to the input price."""


class ModelEntryConfig(StrictModel):
    """What moltbot knows about one model of a provider."""

    alias: str | None = None
    """A short name usable wherever a model reference is, e.g. ``sonnet``."""
    context_window: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    cost: ModelCostConfig | None = None


class AuthProfileConfig(StrictModel):
    """One named credential; rotated through in list order when another is cooling down."""

    id: str
    api_key: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("use lower-case letters, digits, '.', '-' and '_' for a profile id")
        return value


class ProviderConfig(StrictModel):
    """``models.providers.<id>``: one model API endpoint and its credentials."""

    api: str | None = None
    """The provider plugin speaking this API (``openai``, ``anthropic``); default: the id."""
    base_url: str | None = None
    """Default: the plugin's public endpoint; e.g. ``http://127.0.0.1:11434/v1`` for Ollama."""
    api_key: str | None = None
    """Default credential; without it the plugin's environment variable is used."""
    headers: dict[str, str] = Field(default_factory=dict)
    auth_profiles: list[AuthProfileConfig] = Field(default_factory=list)
    timeout: int = Field(60000, ge=100)
    """Milliseconds to wait for the connection and for each piece of the streamed answer."""
    models: dict[str, ModelEntryConfig] = Field(default_factory=dict)


class ModelsConfig(StrictModel):
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    """``alias -> provider/model``; ``models.providers.<id>.models.<m>.alias`` adds more."""

    @field_validator("providers")
    @classmethod
    def _ids(cls, value: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        for name in value:
            if not _ID_RE.match(name):
                raise ValueError(f"provider id {name!r}: use lower-case letters, digits, '.', '-', '_'")
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: dict[str, str]) -> dict[str, str]:
        for alias, target in value.items():
            if not _REF_RE.match(target):
                raise ValueError(f"alias {alias!r} must point at a provider/model reference, not {target!r}")
        return value


class AgentModelConfig(StrictModel):
    """``agent.model`` in its long form: a primary model and fallbacks tried in order."""

    primary: str | None = None
    fallbacks: list[str] = Field(default_factory=list)

    @field_validator("primary")
    @classmethod
    def _primary(cls, value: str | None) -> str | None:
        return None if value is None else check_model_ref(value)

    @field_validator("fallbacks")
    @classmethod
    def _fallbacks(cls, value: list[str]) -> list[str]:
        return [check_model_ref(v) for v in value]

"""Model references (``provider/model``), aliases, and the ordered candidate list for a turn."""

from __future__ import annotations

from dataclasses import dataclass

from moltbot.config.model import Settings
from moltbot.errors import ConfigError
from moltbot.models.config import AgentModelConfig


@dataclass(frozen=True)
class ModelRef:
    """A provider id (a key of ``models.providers`` or a provider plugin's name) and that
    provider's own model id, which may contain slashes (``openrouter/meta-llama/llama-3``)."""

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        provider, sep, model = text.strip().partition("/")
        if not sep or not provider or not model:
            raise ValueError(f"{text!r} is not a model reference; write it as provider/model")
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


def aliases(settings: Settings) -> dict[str, str]:
    """Every alias: ``models.aliases`` plus the per-model ``alias`` keys (the latter win)."""
    table = dict(settings.models.aliases)
    for provider_id, provider in settings.models.providers.items():
        for model_id, entry in provider.models.items():
            if entry.alias:
                table[entry.alias] = f"{provider_id}/{model_id}"
    return table


def resolve(text: str, settings: Settings) -> ModelRef:
    """An alias or a ``provider/model`` reference as a :class:`ModelRef`."""
    target = aliases(settings).get(text.strip(), text)
    return ModelRef.parse(target)


def candidates(settings: Settings, override: str | None = None) -> list[ModelRef]:
    """The models to try for a turn, primary first, duplicates removed.

    ``override`` is a model the user picked (``/model``): it is tried alone, because a model the
    user chose by name must not be silently swapped for another.
    """
    try:
        if override:
            return [resolve(override, settings)]
        choice = settings.agent.model
        if choice is None:
            return []
        if isinstance(choice, str):
            choice = AgentModelConfig(primary=choice)
        refs = [choice.primary] if choice.primary else []
        result: list[ModelRef] = []
        for text in [*refs, *choice.fallbacks]:
            ref = resolve(text, settings)
            if ref not in result:
                result.append(ref)
        return result
    except ValueError as exc:
        raise ConfigError([("agent.model", str(exc))]) from None

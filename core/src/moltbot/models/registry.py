"""Build the configured model providers from ``models.providers`` and the installed plugins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from moltbot.config.model import Settings
from moltbot.errors import ConfigError
from moltbot.interfaces.provider import ModelProvider
from moltbot.models.config import ModelEntryConfig, ProviderConfig
from moltbot.models.refs import ModelRef, aliases, candidates
from moltbot.specs import BuildContext

if TYPE_CHECKING:
    from moltbot.plugins import Plugins


def provider_configs(settings: Settings, plugins: Plugins) -> dict[str, ProviderConfig]:
    """``models.providers`` plus an empty section for each provider plugin that ``agent.model``
    names without configuring it (``openai/gpt-4o`` with only ``OPENAI_API_KEY`` set)."""
    configs = dict(settings.models.providers)
    specs = plugins.model_providers()
    for ref in candidates(settings):
        if ref.provider not in configs and ref.provider in specs:
            configs[ref.provider] = ProviderConfig()
    return configs


def build_providers(settings: Settings, plugins: Plugins, state_dir: Path) -> dict[str, ModelProvider]:
    """One provider instance per configured provider id, built by the plugin named by ``api``.

    Raises:
        ConfigError: a section names a provider plugin that is not installed, or the plugin
            rejects its section.
    """
    specs = plugins.model_providers()
    problems: list[tuple[str, str]] = []
    built: dict[str, ModelProvider] = {}
    for provider_id, config in provider_configs(settings, plugins).items():
        api = config.api or provider_id
        spec = specs.get(api)
        where = f"models.providers.{provider_id}"
        if spec is None:
            known = ", ".join(sorted(specs)) or "none installed"
            problems.append((f"{where}.api", f"no model provider plugin named {api!r} (known: {known})"))
            continue
        try:
            section = (
                config
                if isinstance(config, spec.config)
                else spec.config.model_validate(config.model_dump(by_alias=True, exclude_unset=True))
            )
        except ValueError as exc:
            problems.append((where, str(exc)))
            continue
        ctx = BuildContext(
            name=provider_id, state_dir=state_dir / "providers" / provider_id, settings=settings
        )
        built[provider_id] = spec.factory(section, ctx)
    if problems:
        raise ConfigError(problems)
    return built


def model_entry(settings: Settings, ref: ModelRef) -> ModelEntryConfig | None:
    """The configured facts (price, context window, max tokens) about one model, if any."""
    provider = settings.models.providers.get(ref.provider)
    return provider.models.get(ref.model) if provider else None


def catalog(settings: Settings) -> list[dict[str, Any]]:
    """Known models for ``models.list``: the agent's candidates first (``role`` primary or
    fallback), then every model configured under ``models.providers``; JSON-ready."""
    names = {target: alias for alias, target in aliases(settings).items()}
    rows: dict[str, dict[str, Any]] = {}
    for index, ref in enumerate(candidates(settings)):
        rows[str(ref)] = {"role": "primary" if index == 0 else "fallback"}
    for provider_id, provider in settings.models.providers.items():
        for model_id in provider.models:
            rows.setdefault(f"{provider_id}/{model_id}", {})
    result = []
    for text, row in rows.items():
        ref = ModelRef.parse(text)
        entry = model_entry(settings, ref)
        result.append(
            {
                "id": text,
                "provider": ref.provider,
                "model": ref.model,
                "alias": names.get(text),
                "role": row.get("role"),
                "contextWindow": entry.context_window if entry else None,
                "priced": bool(entry and entry.cost),
            }
        )
    return result

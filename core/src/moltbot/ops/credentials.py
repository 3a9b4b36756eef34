"""Are the secrets a configured channel or model provider needs actually there?

A channel's needs come from its plugin's config model: required fields that are missing, or
required secret-named fields left empty. A provider's key may be in the config
(``models.providers.<p>.apiKey`` or ``providers.<p>.apiKey``) or in ``<PROVIDER>_API_KEY``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from moltbot.ops.context import OpsContext, lookup
from moltbot.ops.findings import Finding

SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|private[_-]?key|credential)")

PROVIDER_ENV: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "xai": ("XAI_API_KEY",),
}
KEYLESS_PROVIDERS = frozenset({"ollama", "lmstudio", "vllm", "local", "llamacpp"})


def _missing_fields(model: type[BaseModel], section: Any) -> list[str]:
    missing: list[str] = []
    try:
        model.model_validate(section if isinstance(section, dict) else {})
    except ValidationError as exc:
        missing += [".".join(str(p) for p in e["loc"]) for e in exc.errors() if e["type"] == "missing"]
    for name, info in model.model_fields.items():
        key = info.alias or name
        empty = isinstance(section, dict) and section.get(key, section.get(name)) in ("", None)
        if info.is_required() and SECRET_NAME.search(name) and empty and key not in missing:
            missing.append(key)
    return missing


def channel_credential_findings(ctx: OpsContext) -> list[Finding]:
    if ctx.plugins is None:
        return []
    specs = ctx.plugins.channels()
    found: list[Finding] = []
    for name, section in sorted(ctx.channels().items()):
        spec = specs.get(name)
        if spec is None or (isinstance(section, dict) and section.get("enabled") is False):
            continue
        missing = _missing_fields(spec.config, section)
        if missing:
            found.append(
                Finding(
                    "channels.credentials_missing",
                    "error",
                    f"channel {name} is configured without its credentials",
                    f"channels.{name} lacks: " + ", ".join(missing),
                    f"set them (prefer ${{ENV}} references), or set channels.{name}.enabled to false",
                    data={"channel": name, "fields": missing},
                )
            )
    return found


def model_ref(ctx: OpsContext) -> str | None:
    """``agent.model`` (a string, or ``{primary, fallbacks}``) with ``models.aliases`` applied."""
    model = ctx.get("agent.model")
    if isinstance(model, dict):
        model = model.get("primary")
    if not isinstance(model, str) or not model:
        return None
    aliases = ctx.get("models.aliases") or {}
    return str(aliases.get(model, model)) if isinstance(aliases, dict) else model


def provider_of(model: str | None) -> str | None:
    if not model or "/" not in model:
        return None
    return model.split("/", 1)[0].lower()


def _env_names(api: str) -> tuple[str, ...]:
    return PROVIDER_ENV.get(api, (f"{api.upper().replace('-', '_')}_API_KEY",))


def _section(ctx: OpsContext, provider: str) -> dict[str, Any]:
    for source in (ctx.effective, ctx.raw):
        for base in ("models.providers", "providers"):
            section = lookup(source, f"{base}.{provider}")
            if isinstance(section, dict):
                return section
    return {}


def _is_local(base_url: Any) -> bool:
    host = urlsplit(base_url).hostname if isinstance(base_url, str) else None
    return host in ("localhost", "127.0.0.1", "::1")


def model_credential_findings(ctx: OpsContext) -> list[Finding]:
    """``models.credentials_missing`` when the primary model's provider has no key anywhere."""
    ref = model_ref(ctx)
    provider = provider_of(ref)
    if provider is None or provider in KEYLESS_PROVIDERS:
        return []
    section = _section(ctx, provider)
    api = str(section.get("api") or provider).lower()
    names = _env_names(api)
    has_key = any(section.get(k) for k in ("apiKey", "api_key", "authProfiles", "auth_profiles"))
    if has_key or _is_local(section.get("baseUrl")) or any(ctx.env.get(n) for n in names):
        return []
    return [
        Finding(
            "models.credentials_missing",
            "error",
            f"no credentials for model provider {provider}",
            f"agent.model is {ref!r} but neither models.providers.{provider}.apiKey nor "
            f"{' / '.join(names)} holds an API key",
            f"export {names[0]}=... in the gateway's environment (or set models.providers.{provider}.apiKey "
            f'to "${{{names[0]}}}")',
            data={"provider": provider, "env": list(names)},
        )
    ]

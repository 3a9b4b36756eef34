"""Model references, aliases, candidate lists, the models config section and auth profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from moltbot import ModelProviderSpec, hookimpl
from moltbot.config.load import validate
from moltbot.errors import ConfigError
from moltbot.models.auth import resolve_profiles
from moltbot.models.config import ProviderConfig
from moltbot.models.refs import ModelRef, aliases, candidates, resolve
from moltbot.models.registry import build_providers, catalog, model_entry
from moltbot.testing import FakeModelProvider, make_plugins


def settings(raw: dict[str, object]):  # type: ignore[no-untyped-def]
    return validate(raw, None)


def test_model_ref_keeps_slashes_in_the_model_id() -> None:
    ref = ModelRef.parse("openrouter/meta-llama/llama-3.1-70b")
    assert (ref.provider, ref.model, str(ref)) == ("openrouter", "meta-llama/llama-3.1-70b", str(ref))
    for bad in ("gpt-4o", "/x", "openai/"):
        with pytest.raises(ValueError, match="provider/model"):
            ModelRef.parse(bad)


def test_seed_string_model_still_works() -> None:
    s = settings({"agent": {"model": "anthropic/claude-3-5-sonnet-20241022"}})
    assert candidates(s) == [ModelRef("anthropic", "claude-3-5-sonnet-20241022")]


def test_primary_fallbacks_and_aliases() -> None:
    s = settings(
        {
            "agent": {"model": {"primary": "sonnet", "fallbacks": ["openai/gpt-4o-mini", "local", "sonnet"]}},
            "models": {
                "aliases": {"local": "ollama/llama3.1"},
                "providers": {
                    "anthropic": {"models": {"claude-3-5-sonnet-20241022": {"alias": "sonnet"}}},
                    "ollama": {"api": "openai", "baseUrl": "http://127.0.0.1:11434/v1"},
                },
            },
        }
    )
    assert aliases(s) == {"local": "ollama/llama3.1", "sonnet": "anthropic/claude-3-5-sonnet-20241022"}
    assert [str(r) for r in candidates(s)] == [
        "anthropic/claude-3-5-sonnet-20241022",
        "openai/gpt-4o-mini",
        "ollama/llama3.1",
    ]
    assert candidates(s, override="local") == [ModelRef("ollama", "llama3.1")]
    assert resolve("openai/o3", s) == ModelRef("openai", "o3")
    assert candidates(settings({})) == []


def test_a_bad_model_reference_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"agent\.model"):
        candidates(settings({"agent": {"model": "not-a-ref"}}))


@pytest.mark.parametrize(
    "raw",
    [
        {"models": {"providers": {"Bad Id": {}}}},
        {"models": {"aliases": {"x": "no-slash"}}},
        {"models": {"providers": {"openai": {"baseURL": "http://x"}}}},
        {"models": {"providers": {"openai": {"authProfiles": [{"id": "Has Space", "apiKey": "k"}]}}}},
        {"models": {"providers": {"openai": {"models": {"m": {"cost": {"input": -1}}}}}}},
        {"agent": {"model": {"primary": "a/b", "fallback": ["c/d"]}}},
    ],
)
def test_config_mistakes_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        settings(raw)


def test_auth_profiles_order_and_env_fallback() -> None:
    config = ProviderConfig.model_validate(
        {"apiKey": "k0", "authProfiles": [{"id": "work", "apiKey": "k1"}, {"id": "home", "apiKey": "k2"}]}
    )
    profiles = resolve_profiles("openai", config, "OPENAI_API_KEY", {"OPENAI_API_KEY": "env"})
    assert [(p.id, p.api_key) for p in profiles] == [
        ("openai:default", "k0"),
        ("openai:work", "k1"),
        ("openai:home", "k2"),
    ]
    assert "k0" not in repr(profiles[0])
    env_only = resolve_profiles("openai", ProviderConfig(), "OPENAI_API_KEY", {"OPENAI_API_KEY": "env"})
    assert [(p.id, p.api_key) for p in env_only] == [("openai:env", "env")]
    assert resolve_profiles("ollama", ProviderConfig(), None, {"OPENAI_API_KEY": "env"}) == []


def _plugins():  # type: ignore[no-untyped-def]
    @hookimpl
    def moltbot_register_model_providers():  # type: ignore[no-untyped-def]
        yield ModelProviderSpec(
            name="fakeapi", factory=lambda config, ctx: FakeModelProvider(), config=ProviderConfig
        )

    return make_plugins(moltbot_register_model_providers)


def test_registry_builds_configured_and_implied_providers(tmp_path: Path) -> None:
    s = settings(
        {
            "agent": {"model": {"primary": "fakeapi/m1", "fallbacks": ["second/m2"]}},
            "models": {
                "providers": {
                    "second": {"api": "fakeapi", "models": {"m2": {"cost": {"input": 1, "output": 2}}}},
                }
            },
        }
    )
    built = build_providers(s, _plugins(), tmp_path)
    assert sorted(built) == ["fakeapi", "second"]
    assert all(isinstance(p, FakeModelProvider) for p in built.values())
    entry = model_entry(s, ModelRef("second", "m2"))
    assert entry is not None and entry.cost is not None and entry.cost.output == 2
    assert model_entry(s, ModelRef("fakeapi", "m1")) is None


def test_registry_names_a_missing_provider_plugin(tmp_path: Path) -> None:
    s = settings({"models": {"providers": {"mine": {"api": "nosuch"}}}})
    with pytest.raises(ConfigError) as info:
        build_providers(s, _plugins(), tmp_path)
    assert info.value.problems[0][0] == "models.providers.mine.api"
    assert "fakeapi" in info.value.problems[0][1]


def test_catalog_lists_candidates_then_configured_models() -> None:
    s = settings(
        {
            "agent": {"model": {"primary": "fast", "fallbacks": ["openai/gpt-4o"]}},
            "models": {
                "aliases": {"fast": "anthropic/haiku"},
                "providers": {
                    "anthropic": {"models": {"opus": {"contextWindow": 200000, "cost": {"input": 15}}}}
                },
            },
        }
    )
    rows = catalog(s)
    assert [(r["id"], r["role"], r["alias"]) for r in rows] == [
        ("anthropic/haiku", "primary", "fast"),
        ("openai/gpt-4o", "fallback", None),
        ("anthropic/opus", None, None),
    ]
    assert rows[2]["contextWindow"] == 200000 and rows[2]["priced"] is True

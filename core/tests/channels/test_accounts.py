"""``channels.<name>.accounts``: merged per account, validated per account, errors name the key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

import moltbot
from moltbot.channels.build import plan, state_dir, status_name
from moltbot.config import Settings
from moltbot.config.accounts import account_sections
from moltbot.config.load import validate
from moltbot.errors import ConfigError
from moltbot.testing import MemoryChatChannel, make_plugins


class TokenConfig(moltbot.ChannelConfig):
    token: str = Field(min_length=4)


@moltbot.hookimpl
def moltbot_register_channels() -> Any:
    yield moltbot.ChannelSpec(name="bot", factory=MemoryChatChannel, config=TokenConfig)


PLUGINS = make_plugins(moltbot_register_channels)


def test_without_accounts_the_section_is_the_default_account() -> None:
    assert account_sections({"token": "abcd"}) == ({"default": {"token": "abcd"}}, [])


def test_shared_keys_are_defaults_each_account_overrides() -> None:
    section = {"token": "shared", "dmPolicy": "open", "accounts": {"home": {}, "work": {"token": "work"}}}
    merged, problems = account_sections(section)
    assert problems == []
    assert merged == {
        "home": {"token": "shared", "dmPolicy": "open"},
        "work": {"token": "work", "dmPolicy": "open"},
    }


@pytest.mark.parametrize(
    ("accounts", "where"),
    [
        ({"Work": {}}, "accounts.Work"),
        ({"work": "token"}, "accounts.work"),
        ({"work": {"accounts": {}}}, "accounts.work.accounts"),
        (["work"], "accounts"),
    ],
)
def test_malformed_accounts_are_named(accounts: Any, where: str) -> None:
    _, problems = account_sections({"accounts": accounts})
    assert [p[0] for p in problems] == [where]


def test_config_errors_name_the_account_and_key() -> None:
    raw = {"channels": {"bot": {"accounts": {"home": {"token": "abcd"}, "work": {"token": "x"}}}}}
    with pytest.raises(ConfigError) as info:
        validate(raw, PLUGINS)
    assert [p[0] for p in info.value.problems] == ["channels.bot.accounts.work.token"]
    validate({"channels": {"bot": {"token": "abcd"}}}, PLUGINS)


def test_plan_builds_one_entry_per_enabled_account_plus_builtins(tmp_path) -> None:
    settings = Settings.model_validate(
        {"channels": {"bot": {"token": "abcd", "accounts": {"home": {}, "off": {"enabled": False}}}}}
    )
    result = plan(settings, PLUGINS.channels())
    assert sorted(result.wanted) == ["bot:home", "webchat"] and result.disabled == ["bot:off"]
    assert status_name("bot", "default") == "bot"
    assert state_dir(tmp_path, "bot", "home") == tmp_path / "channels" / "bot" / "accounts" / "home"


def test_only_non_access_changes_restart_a_channel() -> None:
    def wanted(**section: Any) -> Any:
        settings = Settings.model_validate({"channels": {"bot": {"token": "abcd", **section}}})
        return plan(settings, PLUGINS.channels()).wanted["bot"]

    base = wanted()
    assert not wanted(allowFrom=["alice"], dmPolicy="allowlist").needs_restart(base)
    assert wanted(token="efgh").needs_restart(base)


def test_errors_never_echo_a_secret_value() -> None:
    raw = {"channels": {"bot": {"token": "abc"}}}  # too short: the message must not show it
    with pytest.raises(ConfigError) as info:
        validate(raw, PLUGINS)
    ((path, message),) = info.value.problems
    assert path == "channels.bot.token" and "abc" not in message and "secret" in message

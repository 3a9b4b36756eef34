"""Config: strict validation with helpful messages, env handling, durable writes."""

import json
import os
import stat

import pytest

import moltbot
from moltbot.config import Settings, load_settings, read_raw, resolve_paths, validate
from moltbot.config.load import apply_env_overrides, expand_env
from moltbot.config.store import atomic_write, get_path, set_path, split_path, unset_path
from moltbot.testing import make_plugins


def problems(raw, plugins=None):
    with pytest.raises(moltbot.ConfigError) as info:
        validate(raw, plugins)
    return dict(info.value.problems)


def test_empty_config_gives_the_seed_defaults():
    settings = validate({}, make_plugins())
    assert settings.gateway.port == 18789
    assert settings.gateway.bind == "loopback"
    assert settings.agent.workspace == "~/clawd"
    assert settings.agents.defaults.sandbox.mode == "non-main"
    assert settings.monitoring.thresholds.cpu_warning == 0.8
    assert settings.performance.gateway.request_timeout == 30000


def test_seed_example_validates():
    raw = {
        "agent": {"model": "anthropic/claude-3-5-sonnet-20241022", "workspace": "~/clawd"},
        "gateway": {
            "port": 18789,
            "bind": "loopback",
            "auth": {"mode": "password", "password": "your-secure-password"},
            "controlUi": {"enabled": True},
        },
        "agents": {
            "defaults": {
                "workspace": "~/clawd",
                "sandbox": {"mode": "non-main", "allowlist": ["read"], "denylist": ["browser"]},
            }
        },
    }
    settings = validate(raw, make_plugins())
    assert settings.gateway.auth.password == "your-secure-password"


def test_unknown_key_names_the_path_and_suggests_a_fix():
    found = problems({"gateway": {"prot": 1}})
    assert "did you mean 'port'?" in found["gateway.prot"]


def test_bad_choice_lists_the_choices_and_suggests_one():
    found = problems({"gateway": {"auth": {"mode": "tokn"}}})
    assert (
        found["gateway.auth.mode"]
        == "'tokn' is not one of 'token', 'password', 'none'; did you mean 'token'?"
    )


def test_bad_type_shows_the_value():
    found = problems({"gateway": {"port": "abc"}})
    assert "'abc'" in found["gateway.port"]


def test_channel_section_is_validated_by_the_plugin_model():
    @moltbot.hookimpl
    def moltbot_register_channels():
        yield moltbot.ChannelSpec(name="chat", factory=object, config=moltbot.ChannelConfig)

    plugins = make_plugins(moltbot_register_channels)
    assert validate({"channels": {"chat": {"dmPolicy": "pairing"}}}, plugins)
    found = problems({"channels": {"chat": {"dmPolicy": "opne"}}}, plugins)
    assert "did you mean 'open'" in found["channels.chat.dmPolicy"]
    found = problems({"channels": {"chta": {}}}, plugins)
    assert "did you mean 'chat'" in found["channels.chta"]
    assert "moltbot-chta" in found["channels.chta"]


def test_log_transport_type_must_be_installed():
    found = problems({"logging": {"transports": [{"type": "consle"}]}}, make_plugins())
    assert "did you mean 'console'" in found["logging.transports[0].type"]


def test_env_substitution_and_escape():
    data, missing = expand_env({"a": "${HOME_X}/x", "b": "$${HOME_X}", "c": ["${NOPE}"]}, {"HOME_X": "/h"})
    assert data == {"a": "/h/x", "b": "${HOME_X}", "c": ["${NOPE}"]}
    assert missing[0][0] == "c[0]" and "NOPE" in missing[0][1]


def test_seed_environment_overrides():
    env = {
        "CLAWDBOT_GATEWAY_PASSWORD": "pw-from-env",
        "CLAWDBOT_AGENT_MODEL": "openai/gpt-4o",
        "MOLTBOT_GATEWAY_PORT": "19000",
        "CLAWDBOT_GATEWAY_PORT": "1",
    }
    settings = Settings.model_validate(apply_env_overrides({}, env))
    assert settings.gateway.auth.mode == "password"
    assert settings.gateway.auth.password == "pw-from-env"
    assert settings.agent.model == "openai/gpt-4o"
    assert settings.gateway.port == 19000  # MOLTBOT_ wins over CLAWDBOT_


def test_env_password_does_not_override_an_explicit_mode():
    raw = apply_env_overrides({"gateway": {"auth": {"mode": "token"}}}, {"MOLTBOT_GATEWAY_PASSWORD": "x"})
    assert raw["gateway"]["auth"]["mode"] == "token"


def test_json5_file_with_comments(tmp_path):
    path = tmp_path / "moltbot.json"
    path.write_text("// mine\n{gateway: {port: 18790,},}\n")
    assert load_settings(path, None, env={}).gateway.port == 18790


def test_unparsable_file_is_a_config_error(tmp_path):
    path = tmp_path / "moltbot.json"
    path.write_text("{gateway: ")
    with pytest.raises(moltbot.ConfigError, match="not valid JSON5"):
        read_raw(path)


def test_atomic_write_is_private_and_keeps_the_previous_file(tmp_path):
    path = tmp_path / "state" / "moltbot.json"
    atomic_write(path, b'{"a": 1}')
    atomic_write(path, b'{"a": 2}')
    assert json.loads(path.read_text()) == {"a": 2}
    assert json.loads(path.with_name("moltbot.json.bak").read_text()) == {"a": 1}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_dotted_paths():
    assert split_path("channels.whatsapp.allowFrom[0]") == ["channels", "whatsapp", "allowFrom", 0]
    data = set_path({}, "channels.whatsapp.allowFrom[0]", "+1")
    assert data == {"channels": {"whatsapp": {"allowFrom": ["+1"]}}}
    assert get_path(data, "channels.whatsapp.allowFrom[0]") == "+1"
    assert unset_path(data, "channels.whatsapp.allowFrom[0]") == {"channels": {"whatsapp": {"allowFrom": []}}}
    with pytest.raises(KeyError):
        unset_path(data, "gateway.port")


def test_state_dir_resolution(tmp_path):
    home = tmp_path / "home"
    (home / ".clawdbot").mkdir(parents=True)
    legacy = resolve_paths({}, home)
    assert legacy.state_dir == home / ".clawdbot" and legacy.is_legacy
    (home / ".moltbot").mkdir()
    assert resolve_paths({}, home).config_path == home / ".moltbot" / "moltbot.json"
    custom = resolve_paths(
        {"MOLTBOT_STATE_DIR": str(tmp_path / "s"), "MOLTBOT_CONFIG_PATH": str(tmp_path / "c.json")}, home
    )
    assert custom.state_dir == tmp_path / "s" and custom.config_path == tmp_path / "c.json"


def test_atomic_write_creates_every_missing_directory_private(tmp_path):
    path = tmp_path / "state" / "agents" / "main" / "x.json"
    atomic_write(path, b"{}")
    for directory in (tmp_path / "state", tmp_path / "state" / "agents", path.parent):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700

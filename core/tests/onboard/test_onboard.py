"""``moltbot onboard`` writes a valid config whose secrets live only in the 0600 env file."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from moltbot import ChannelConfig, ChannelSpec, ModelProviderSpec, hookimpl
from moltbot.cli.onboard_cmd import onboard_command
from moltbot.cli.state import CliState
from moltbot.config import load_settings, resolve_paths
from moltbot.daemon import read_env_file
from moltbot.errors import ConfigError
from moltbot.testing import FakeModelProvider, MemoryChatChannel, make_plugins


class SecureConfig(ChannelConfig):
    """A channel that cannot work without a credential and a room."""

    bot_token: str
    room: str


@hookimpl
def moltbot_register_channels() -> Iterator[ChannelSpec]:
    for name in ("echo", "chat"):
        yield ChannelSpec(name=name, factory=MemoryChatChannel, config=ChannelConfig)
    yield ChannelSpec(name="secure", factory=MemoryChatChannel, config=SecureConfig)


@hookimpl
def moltbot_register_model_providers() -> Iterator[ModelProviderSpec]:
    for name in ("openai", "anthropic"):
        yield ModelProviderSpec(name=name, factory=lambda config, ctx: FakeModelProvider())


def plugins():
    return make_plugins(moltbot_register_channels, moltbot_register_model_providers)


@pytest.fixture
def onboard(moltbot_home: Path) -> Callable[..., Result]:
    def run(*args: str, input: str | None = None, ok: bool = True) -> Result:
        state = CliState(paths=resolve_paths())
        state.__dict__["plugins"] = plugins()  # the installed entry points are not under test
        result = CliRunner().invoke(onboard_command, list(args), obj=state, input=input)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


SCRIPTED = (
    "--non-interactive",
    "--provider",
    "openai",
    "--model",
    "gpt-4o",
    "--api-key",
    "sk-live-SECRET",
    "--channel",
    "echo",
)


def files(home: Path) -> tuple[dict, dict[str, str], str]:
    config = home / "moltbot.json"
    return json.loads(config.read_text()), read_env_file(home / "gateway.env"), config.read_text()


def test_non_interactive_writes_references_and_a_private_env_file(
    onboard, moltbot_home: Path, tmp_path
) -> None:
    result = onboard(*SCRIPTED, "--workspace", str(tmp_path / "ws"))
    config, env, text = files(moltbot_home)
    assert config["agent"] == {"model": "openai/gpt-4o", "workspace": str(tmp_path / "ws")}
    assert config["models"]["providers"]["openai"]["apiKey"] == "${OPENAI_API_KEY}"
    assert config["gateway"]["auth"] == {"mode": "token", "token": "${MOLTBOT_GATEWAY_TOKEN}"}
    assert config["channels"] == {"echo": {"enabled": True}}  # never-configured channels are not added
    assert env["OPENAI_API_KEY"] == "sk-live-SECRET" and len(env["MOLTBOT_GATEWAY_TOKEN"]) >= 32
    assert "sk-live-SECRET" not in text and "sk-live-SECRET" not in result.output
    assert env["MOLTBOT_GATEWAY_TOKEN"] not in result.output
    assert stat.S_IMODE((moltbot_home / "gateway.env").stat().st_mode) == 0o600
    assert (tmp_path / "ws").is_dir()
    settings = load_settings(moltbot_home / "moltbot.json", plugins(), env)
    assert settings.gateway.auth.token == env["MOLTBOT_GATEWAY_TOKEN"]
    assert settings.models.providers["openai"].api_key == "sk-live-SECRET"


def test_rerunning_keeps_values_and_secrets(onboard, moltbot_home: Path) -> None:
    onboard(*SCRIPTED, "--port", "19000")
    before = files(moltbot_home)
    onboard("--non-interactive")
    assert files(moltbot_home) == before
    assert before[0]["gateway"]["port"] == 19000


def test_interactive_prompts_hide_secrets_and_check_password_strength(
    onboard, moltbot_home: Path, tmp_path
) -> None:
    answers = [
        "anthropic",  # provider
        "",  # model: the default for anthropic
        "sk-ant-HIDDEN",  # API key (hidden)
        "password",  # auth mode
        "short",  # too short
        "short",  # confirmation
        "a much longer passphrase",
        "a much longer passphrase",
        "18790",  # port
        "loopback",  # bind
        str(tmp_path / "work"),  # workspace
        "n",  # chat channel
        "y",  # echo channel
        "n",  # secure channel
    ]
    result = onboard(input="\n".join(answers) + "\n")
    assert "at least 12 characters" in result.output
    assert "sk-ant-HIDDEN" not in result.output and "a much longer passphrase" not in result.output
    config, env, _ = files(moltbot_home)
    assert config["agent"]["model"] == "anthropic/claude-3-5-sonnet-20241022"
    assert config["gateway"]["auth"] == {"mode": "password", "password": "${MOLTBOT_GATEWAY_PASSWORD}"}
    assert env == {
        "ANTHROPIC_API_KEY": "sk-ant-HIDDEN",
        "MOLTBOT_GATEWAY_PASSWORD": "a much longer passphrase",
    }
    assert config["channels"] == {"echo": {"enabled": True}}


def test_interactive_rerun_offers_current_values(onboard, moltbot_home: Path) -> None:
    onboard(*SCRIPTED)
    before = files(moltbot_home)
    result = onboard(input="\n" * 13)  # accept every default; Enter keeps the stored key
    assert "[openai]" in result.output and "[gpt-4o]" in result.output
    assert files(moltbot_home) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--non-interactive", "--provider", "openai", "--model", "m"), "--api-key"),
        ((*SCRIPTED, "--auth", "password", "--password", "tooshort"), "at least 12"),
        ((*SCRIPTED, "--token", "short"), "at least 24"),
        ((*SCRIPTED, "--channel", "nosuch"), "no installed channel plugin named nosuch"),
    ],
)
def test_bad_answers_write_nothing(onboard, moltbot_home: Path, args: tuple, message: str) -> None:
    result = onboard(*args, ok=False)
    assert result.exit_code != 0 and message in result.output
    assert not (moltbot_home / "moltbot.json").exists() and not (moltbot_home / "gateway.env").exists()


def test_an_invalid_existing_config_is_reported_and_left_alone(onboard, moltbot_home: Path) -> None:
    moltbot_home.mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text('{"gateway": {"prot": 1}}')
    result = onboard(*SCRIPTED, ok=False)
    assert isinstance(result.exception, ConfigError) and "prot" in str(result.exception)
    assert (moltbot_home / "moltbot.json").read_text() == '{"gateway": {"prot": 1}}'


def test_install_daemon_finishes_with_the_service(onboard, moltbot_home, tmp_path, monkeypatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "calls.txt"
    for name in ("systemctl", "loginctl", "moltbot"):
        exe = bindir / name
        exe.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n')
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("moltbot.daemon.definition.find_moltbot", lambda: str(bindir / "moltbot"))
    if not sys.platform.startswith("linux"):
        pytest.skip("exercises the systemd manager")
    result = onboard(*SCRIPTED, "--install-daemon", "--unit-dir", str(tmp_path / "units"))
    assert "moltbot-gateway.service" in result.output
    unit = (tmp_path / "units" / "moltbot-gateway.service").read_text()
    assert f"EnvironmentFile=-{moltbot_home / 'gateway.env'}" in unit
    assert "systemctl --user restart moltbot-gateway.service" in calls.read_text()


def test_onboard_is_a_builtin_command() -> None:
    assert "onboard" in make_plugins().commands()


def test_no_channels_disables_but_keeps_channel_settings(onboard, moltbot_home: Path) -> None:
    onboard(*SCRIPTED)
    config = json.loads((moltbot_home / "moltbot.json").read_text())
    config["channels"]["echo"]["dmPolicy"] = "open"
    (moltbot_home / "moltbot.json").write_text(json.dumps(config))
    onboard("--non-interactive", "--no-channels")
    assert files(moltbot_home)[0]["channels"] == {"echo": {"enabled": False, "dmPolicy": "open"}}


def test_channel_credentials_from_flags_go_to_the_env_file(onboard, moltbot_home: Path) -> None:
    onboard(
        *SCRIPTED,
        "--channel",
        "secure",
        "--channel-option",
        "secure.botToken=123:ABC",
        "--channel-option",
        "secure.room=lobby",
    )
    config, env, text = files(moltbot_home)
    assert config["channels"]["secure"] == {
        "botToken": "${MOLTBOT_SECURE_BOT_TOKEN}",
        "room": "lobby",
        "enabled": True,
    }
    assert env["MOLTBOT_SECURE_BOT_TOKEN"] == "123:ABC" and "123:ABC" not in text
    assert load_settings(moltbot_home / "moltbot.json", plugins(), env).channels["secure"]["room"] == "lobby"


def test_missing_channel_credentials(onboard, moltbot_home: Path, tmp_path: Path) -> None:
    result = onboard(*SCRIPTED, "--channel", "secure", ok=False)
    assert "--channel-option secure.botToken=" in result.output
    assert not (moltbot_home / "moltbot.json").exists()
    answers = ["n", "n", "y", "999:SECRET", "lobby"]  # chat, echo, secure, then its two settings
    flags = ("--provider", "openai", "--model", "gpt-4o", "--api-key", "k", "--auth", "token", "--port", "1")
    result = onboard(
        *flags, "--bind", "loopback", "--workspace", str(tmp_path / "ws"), input="\n".join(answers) + "\n"
    )
    assert "999:SECRET" not in result.output
    config, env, _ = files(moltbot_home)
    assert config["channels"] == {
        "secure": {"botToken": "${MOLTBOT_SECURE_BOT_TOKEN}", "room": "lobby", "enabled": True}
    }
    assert env["MOLTBOT_SECURE_BOT_TOKEN"] == "999:SECRET"

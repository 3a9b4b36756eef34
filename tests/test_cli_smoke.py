"""The installed ``moltbot`` command works from a clean state dir."""

import json

from moltbot.errors import EX_CONFIG


def test_help_lists_core_commands(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert "plugins" in result.stdout and "config" in result.stdout


def test_plugins_json_lists_in_repo_plugins(run_cli):
    result = run_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    found = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    assert found["echo"]["distribution"] == "moltbot-echo"
    assert found["core-console"]["distribution"] == "moltbot-core"


def test_invalid_config_exits_78_naming_key_and_fix(run_cli, moltbot_home):
    moltbot_home.mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text('{gateway: {auth: {mode: "tokn"}}}')
    result = run_cli("config", "validate")
    assert result.returncode == EX_CONFIG
    assert "gateway.auth.mode" in result.stderr and "did you mean 'token'" in result.stderr


def test_config_set_get_unset_round_trip(run_cli, moltbot_home):
    assert run_cli("config", "set", "gateway.port", "18800").returncode == 0
    assert run_cli("config", "get", "gateway.port").stdout.strip() == "18800"
    bad = run_cli("config", "set", "gateway.port", "not-a-port")
    assert bad.returncode == EX_CONFIG and "not written" in bad.stderr
    assert run_cli("config", "get", "gateway.port").stdout.strip() == "18800"
    assert run_cli("config", "unset", "gateway.port").returncode == 0
    assert run_cli("config", "get", "gateway.port", "--effective").stdout.strip() == "18789"


def test_config_schema_is_json_schema_with_plugin_sections(run_cli):
    schema = json.loads(run_cli("config", "schema").stdout)
    assert schema["properties"]["gateway"]
    assert "echo" in schema["properties"]["channels"]["properties"]


def test_config_schema_of_one_path(run_cli):
    found = json.loads(run_cli("config", "schema", "channels.echo.dmPolicy").stdout)
    assert found["default"] == "pairing" and "open" in found["enum"]
    missing = run_cli("config", "schema", "channels.echo.nope")
    assert missing.returncode == 2 and "no config key" in missing.stderr

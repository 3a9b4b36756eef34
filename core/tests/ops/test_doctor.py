"""Doctor checks fire on crafted state and stay quiet on healthy state; --fix repairs."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from moltbot import ChannelConfig, hookimpl
from moltbot.ops import doctor as d
from moltbot.ops.legacy import migrate_state_dir
from moltbot.ops.sysinfo import DiskInfo, SystemInfo, system_info
from moltbot.plugins import module_plugin
from moltbot.specs import ChannelSpec
from moltbot.testing import make_plugins

GB = 1024**3


def ids(findings):
    return {f.id for f in findings}


def _info(total: int, available: int) -> SystemInfo:
    real = system_info()
    return SystemInfo(**{**real.__dict__, "total_memory": total, "available_memory": available})


def test_low_memory_fires_under_ten_percent_only():
    assert ids(d.memory_findings(_info(8 * GB, int(0.05 * 8 * GB)))) == {"system.low_memory"}
    assert d.memory_findings(_info(8 * GB, 4 * GB)) == []


def test_low_disk_severity_follows_free_space():
    assert d.disk_findings(DiskInfo("/x", 100 * GB, 0, 100 * 1024**2))[0].severity == "error"
    assert d.disk_findings(DiskInfo("/x", 100 * GB, 0, 800 * 1024**2))[0].severity == "warn"
    assert d.disk_findings(DiskInfo("/x", 100 * GB, 0, 50 * GB)) == []


def test_real_disk_numbers_are_reported(moltbot_home, ctx_for):
    disk = d.measure(ctx_for()).disk
    assert disk.total > 0 and 0 <= disk.free <= disk.total


def test_port_in_use_names_the_listener(write_cfg, ctx_for):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        write_cfg({"gateway": {"port": port}})
        [finding] = d.port_findings(ctx_for())
        assert finding.id == "gateway.port_in_use" and finding.severity == "error"
        assert finding.data["pid"] in (os.getpid(), None)
    assert d.port_findings(ctx_for()) == []


def test_invalid_config_and_deprecated_keys(write_cfg, ctx_for, run_cli):
    write_cfg({"gateway": {"port": "not a port"}})
    assert "config.invalid" in ids(d.config_findings(ctx_for()))
    write_cfg({"gateway": {"token": "t" * 30}})
    found = d.config_findings(ctx_for())
    assert {"config.invalid", "config.deprecated_key"} <= ids(found)
    result = run_cli("doctor", "--fix")
    assert "moved gateway.token to gateway.auth.token" in result.output
    assert d.config_findings(ctx_for()) == []
    write_cfg({})
    assert d.config_findings(ctx_for()) == []


def test_permissions_fire_and_fix_repairs(write_cfg, moltbot_home, run_cli):
    config = write_cfg({}, mode=0o644)
    os.chmod(moltbot_home, 0o755)
    (moltbot_home / "agents").mkdir(mode=0o755)
    (moltbot_home / "agents" / "s.jsonl").write_text("{}\n")
    os.chmod(moltbot_home / "agents" / "s.jsonl", 0o644)
    report = json.loads(run_cli("doctor", "--json").output)
    found = {f["id"] for f in report["findings"]}
    assert {
        "fs.config.perms_world_readable",
        "fs.state_dir.perms_readable",
        "fs.state_files.perms_readable",
    } <= found
    result = run_cli("doctor", "--json", "--fix")
    after = json.loads(result.output)
    assert not [f for f in after["findings"] if f["id"].startswith("fs.")]
    assert any("chmod" in fix for fix in after["fixes"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(moltbot_home.stat().st_mode) == 0o700
    assert stat.S_IMODE((moltbot_home / "agents" / "s.jsonl").stat().st_mode) == 0o600


def test_failed_plugin_is_reported(ctx_for):
    assert d.plugin_findings(ctx_for()) == []
    plugins = make_plugins()
    plugins.register(module_plugin("broken", _bogus_hook), name="broken")
    [finding] = d.plugin_findings(ctx_for(plugins))
    assert finding.id == "plugins.load_failed" and finding.data["plugin"] == "broken"


@hookimpl
def moltbot_register_chanels():  # misspelt on purpose: the plugin fails to load
    return []


_bogus_hook = moltbot_register_chanels


class TokenChannelConfig(ChannelConfig):
    bot_token: str


@hookimpl
def moltbot_register_channels():
    yield ChannelSpec(name="tg", factory=lambda c, x: None, config=TokenChannelConfig)


@pytest.mark.parametrize(
    ("section", "env", "fires"),
    [
        ({"dmPolicy": "pairing"}, {}, True),
        ({"botToken": ""}, {}, True),
        ({"botToken": "${TG_TOKEN}"}, {"TG_TOKEN": "123:abc"}, False),
        ({"botToken": "123:abc"}, {}, False),
        ({"enabled": False}, {}, False),
    ],
)
def test_channel_credentials(write_cfg, ctx_for, section, env, fires):
    write_cfg({"channels": {"tg": section}})
    found = d.channel_credential_findings(ctx_for(make_plugins(moltbot_register_channels), env))
    assert ("channels.credentials_missing" in ids(found)) is fires


def _env_without_keys() -> dict[str, str]:
    return {k: "" for k in os.environ if k.endswith("_API_KEY")}


@pytest.mark.parametrize(
    ("model", "env", "fires"),
    [
        ("openai/gpt-4o", {}, True),
        ("anthropic/claude-3-5-sonnet-20241022", {}, True),
        ("openai/gpt-4o", {"OPENAI_API_KEY": "sk-test"}, False),
        ("anthropic/claude-3-5-sonnet-20241022", {"ANTHROPIC_API_KEY": "x"}, False),
        ("ollama/llama3", {}, False),
        (None, {}, False),
    ],
)
def test_model_provider_credentials(write_cfg, ctx_for, model, env, fires):
    write_cfg({"agent": {"model": model}} if model else {})
    found = d.model_credential_findings(ctx_for(env={**_env_without_keys(), **env}))
    assert ("models.credentials_missing" in ids(found)) is fires


def test_workspace_missing_then_fixed(write_cfg, ctx_for, tmp_path, run_cli):
    workspace = tmp_path / "ws"
    write_cfg({"agents": {"defaults": {"workspace": str(workspace)}}})
    assert "workspace.missing" in ids(d.directory_findings(ctx_for()))
    assert "created" in run_cli("doctor", "--fix").output
    assert workspace.is_dir() and stat.S_IMODE(workspace.stat().st_mode) == 0o700
    assert d.directory_findings(ctx_for()) == []


def test_bubblewrap_missing_only_when_sandboxing(write_cfg, ctx_for, tmp_path, monkeypatch):
    empty, with_bwrap = tmp_path / "empty", tmp_path / "bin"
    empty.mkdir()
    with_bwrap.mkdir()
    fake = with_bwrap / "bwrap"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    write_cfg({})
    monkeypatch.setenv("PATH", str(empty))
    assert ids(d.sandbox_findings(ctx_for())) == {"sandbox.bwrap_missing"}
    monkeypatch.setenv("PATH", str(with_bwrap))
    assert d.sandbox_findings(ctx_for()) == []
    monkeypatch.setenv("PATH", str(empty))
    write_cfg({"agents": {"defaults": {"sandbox": {"mode": "off"}}}})
    assert d.sandbox_findings(ctx_for()) == []


def test_legacy_state_dir_is_migrated_without_overwriting(moltbot_home, run_cli):
    home = Path(os.environ["HOME"])
    legacy = home / ".clawdbot"
    (legacy / "agents").mkdir(parents=True)
    (legacy / "clawdbot.json").write_text('{"gateway": {"port": 18790}}')
    (legacy / "agents" / "t.jsonl").write_text('{"a": 1}\n')
    report = json.loads(run_cli("doctor", "--json").output)
    [finding] = [f for f in report["findings"] if f["id"] == "state.legacy_dir"]
    assert finding["fixable"]
    assert "copied" in run_cli("doctor", "--fix").output
    target = home / ".moltbot"
    assert json.loads((target / "moltbot.json").read_text())["gateway"]["port"] == 18790
    assert (target / "agents" / "t.jsonl").read_text() == '{"a": 1}\n'
    assert (legacy / "clawdbot.json").exists()
    report = json.loads(run_cli("doctor", "--json").output)
    [finding] = [f for f in report["findings"] if f["id"] == "state.legacy_dir"]
    assert not finding["fixable"]
    with pytest.raises(FileExistsError):
        migrate_state_dir(legacy, target)


def test_no_legacy_finding_without_clawdbot_dir(moltbot_home):
    from moltbot.ops.legacy import legacy_dir_findings

    assert legacy_dir_findings(Path(os.environ["HOME"])) == []


def test_doctor_json_shape_and_exit_codes(write_cfg, run_cli):
    write_cfg({})
    ok = run_cli("doctor", "--json")
    report = json.loads(ok.output)
    assert set(report) >= {
        "schemaVersion",
        "kind",
        "generatedAt",
        "ok",
        "summary",
        "findings",
        "fixes",
        "system",
        "process",
        "network",
        "storage",
    }
    assert {
        "platform",
        "arch",
        "release",
        "cpuCount",
        "totalMemory",
        "availableMemory",
        "loadAverage",
        "pythonVersion",
        "moltbotVersion",
    } <= set(report["system"])
    assert report["storage"]["stateVolume"]["total"] > 0
    errors = [f for f in report["findings"] if f["severity"] in ("error", "critical")]
    assert ok.exit_code == (1 if errors else 0)
    write_cfg({"gateway": {"port": "x"}})
    bad = run_cli("doctor")
    assert bad.exit_code == 1 and "config.invalid" in bad.output

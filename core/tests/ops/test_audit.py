"""Security audit checks: each fires on a crafted config and not on the safe one; --fix works;
the JSON shape is pinned."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import importlib_metadata
import pytest

from moltbot.ops.audit import audit_findings
from moltbot.ops.audit_plugins import plugin_source_findings
from moltbot.ops.findings import FINDING_KEYS

TOKEN = "t" * 40


def ids(findings):
    return {f.id for f in findings}


def audit(write_cfg, ctx_for, config, **kw):
    write_cfg(config, **kw)
    return ids(audit_findings(ctx_for()))


SAFE = {"gateway": {"auth": {"mode": "token", "token": "${GW_TOKEN}"}}}

CASES = [
    ("gateway.loopback_no_auth", {"gateway": {"auth": {"mode": "none"}}}),
    ("gateway.bind_no_auth", {"gateway": {"bind": "lan", "auth": {"mode": "none"}}}),
    ("gateway.password_too_short", {"gateway": {"auth": {"mode": "password", "password": "${GW_SHORT}"}}}),
    ("gateway.token_too_short", {"gateway": {"auth": {"mode": "token", "token": "${GW_SHORT}"}}}),
    (
        "gateway.bind_weak_auth",
        {"gateway": {"bind": "lan", "auth": {"mode": "token", "token": "${GW_SHORT}"}}},
    ),
    (
        "gateway.tailscale_funnel_no_password",
        {"gateway": {"auth": {"mode": "token", "token": "${GW_TOKEN}"}, "tailscale": {"mode": "funnel"}}},
    ),
    (
        "gateway.control_ui.allowed_origins_wildcard",
        {**SAFE, "gateway": {**SAFE["gateway"], "controlUi": {"allowedOrigins": ["*"]}}},
    ),
    (
        "gateway.control_ui.allowed_origins_http",
        {"gateway": {**SAFE["gateway"], "controlUi": {"allowedOrigins": ["http://192.168.1.5:18789"]}}},
    ),
    ("sandbox.mode_off", {**SAFE, "agents": {"defaults": {"sandbox": {"mode": "off"}}}}),
    ("tools.exec.no_sandbox", {**SAFE, "agents": {"defaults": {"sandbox": {"mode": "off"}}}}),
    ("tools.exec.security_full_configured", {**SAFE, "tools": {"exec": {"security": "full"}}}),
    ("channels.dm_open", {**SAFE, "channels": {"telegram": {"dmPolicy": "open"}}}),
    (
        "channels.whatsapp.dm_policy_not_pairing",
        {**SAFE, "channels": {"whatsapp": {"dmPolicy": "allowlist"}}},
    ),
    (
        "config.secrets.gateway_password_in_config",
        {"gateway": {"auth": {"mode": "password", "password": "a-long-literal-password"}}},
    ),
    ("config.secrets.gateway_token_in_config", {"gateway": {"auth": {"mode": "token", "token": TOKEN}}}),
    ("config.secrets.in_config", {**SAFE, "channels": {"telegram": {"botToken": "123456:ABCDEF"}}}),
    ("logging.redact_off", {**SAFE, "logging": {"redactSensitive": False}}),
]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("GW_TOKEN", TOKEN)
    monkeypatch.setenv("GW_SHORT", "short")


@pytest.mark.parametrize(("check", "config"), CASES, ids=[c for c, _ in CASES])
def test_check_fires(write_cfg, ctx_for, check, config):
    assert check in audit(write_cfg, ctx_for, config)


def test_safe_config_has_no_config_findings(write_cfg, ctx_for):
    found = audit(
        write_cfg,
        ctx_for,
        {
            **SAFE,
            "channels": {"whatsapp": {"dmPolicy": "pairing"}},
            "tools": {"exec": {"security": "allowlist"}},
        },
    )
    assert not {c for c, _ in CASES} & found


def test_sandbox_off_with_exec_denied_only_warns_about_sandbox(write_cfg, ctx_for):
    found = audit(
        write_cfg,
        ctx_for,
        {**SAFE, "agents": {"defaults": {"sandbox": {"mode": "off"}}}, "tools": {"deny": ["exec"]}},
    )
    assert "sandbox.mode_off" in found and "tools.exec.no_sandbox" not in found


def test_severities_of_exposure(write_cfg, ctx_for):
    write_cfg(
        {
            "gateway": {
                "bind": "lan",
                "auth": {"mode": "token", "token": "${GW_TOKEN}"},
                "controlUi": {"allowedOrigins": ["*"]},
            }
        }
    )
    by_id = {f.id: f for f in audit_findings(ctx_for())}
    assert by_id["gateway.control_ui.allowed_origins_wildcard"].severity == "critical"
    write_cfg({**SAFE, "gateway": {**SAFE["gateway"], "controlUi": {"allowedOrigins": ["*"]}}})
    by_id = {f.id: f for f in audit_findings(ctx_for())}
    assert by_id["gateway.control_ui.allowed_origins_wildcard"].severity == "warn"


def test_permissions_fire_and_fix_tightens(write_cfg, moltbot_home, run_cli):
    config = write_cfg(SAFE, mode=0o664)
    os.chmod(moltbot_home, 0o777)
    report = json.loads(run_cli("security", "audit", "--json").output)
    found = {f["id"] for f in report["findings"]}
    assert {"fs.config.perms_writable", "fs.state_dir.perms_world_writable"} <= found
    result = run_cli("security", "audit", "--json", "--fix")
    after = json.loads(result.output)
    assert not [f for f in after["findings"] if f["id"].startswith("fs.")]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(moltbot_home.stat().st_mode) == 0o700


def test_fix_turns_redaction_back_on(write_cfg, run_cli):
    config = write_cfg({**SAFE, "logging": {"redactSensitive": False}})
    run_cli("security", "audit", "--fix")
    assert json.loads(config.read_text())["logging"]["redactSensitive"] is True
    assert json.loads(config.read_text())["gateway"]["auth"]["token"] == "${GW_TOKEN}"


def test_json_schema_is_stable_and_exit_code_follows_criticals(write_cfg, run_cli):
    write_cfg({"gateway": {"auth": {"mode": "none"}}})
    result = run_cli("security", "audit", "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1 and report["ok"] is False
    assert set(report) == {
        "schemaVersion",
        "kind",
        "generatedAt",
        "ok",
        "summary",
        "findings",
        "fixes",
        "deep",
    }
    assert report["schemaVersion"] == 1 and report["kind"] == "security-audit"
    assert set(report["summary"]) == {"info", "warn", "error", "critical"}
    assert report["findings"] and all(tuple(f) == FINDING_KEYS for f in report["findings"])
    write_cfg(SAFE)
    assert run_cli("security", "audit").exit_code == 0


def test_audit_reads_broken_config_defensively(write_cfg, ctx_for):
    found = audit(write_cfg, ctx_for, {"gateway": {"auth": {"mode": "none"}, "bogus": 1}, "tools": "oops"})
    assert "gateway.loopback_no_auth" in found


def _dist(tmp_path: Path, name: str, direct_url: dict | None) -> importlib_metadata.Distribution:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return importlib_metadata.PathDistribution(info)


def test_plugin_sources(tmp_path, write_cfg, ctx_for):
    repo = tmp_path / "repo"
    (repo / "plugins" / "ok").mkdir(parents=True)
    dists = [
        _dist(tmp_path, "from-index", None),
        _dist(
            tmp_path, "in-repo", {"url": (repo / "plugins" / "ok").as_uri(), "dir_info": {"editable": True}}
        ),
        _dist(tmp_path, "elsewhere", {"url": "file:///opt/hack", "dir_info": {"editable": True}}),
        _dist(tmp_path, "from-url", {"url": "https://example.invalid/p.tar.gz", "archive_info": {}}),
        _dist(
            tmp_path,
            "hashed",
            {"url": "https://example.invalid/q.tar.gz", "archive_info": {"hashes": {"sha256": "ab"}}},
        ),
        _dist(
            tmp_path,
            "vcs-pinned",
            {"url": "https://g.invalid/r.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}},
        ),
    ]
    write_cfg({})
    found = plugin_source_findings(ctx_for(), dists, repo)
    flagged = {f.data["distribution"] for f in found if f.id == "plugins.unpinned_source"}
    assert flagged == {"elsewhere", "from-url"}
    assert "plugins.no_allowlist" in ids(found)
    write_cfg({"plugins": {"allow": ["in-repo"]}})
    assert "plugins.no_allowlist" not in ids(plugin_source_findings(ctx_for(), dists, repo))

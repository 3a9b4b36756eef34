"""`moltbot sandbox explain` prints the effective tools and why, as text or JSON."""

import json
import re

from click.testing import CliRunner

from moltbot.cli import cli


def run(home, *args):
    return CliRunner().invoke(cli, ["--state-dir", str(home), "--no-plugins", "sandbox", "explain", *args])


def test_explain_a_non_main_session_as_json(moltbot_home):
    (moltbot_home).mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text('{"tools": {"deny": ["edit"]}}')
    result = run(moltbot_home, "--session", "agent:main:discord:group:9", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sandboxed"] is True
    decisions = {t["name"]: t for t in data["tools"]}
    assert decisions["edit"] == {"name": "edit", "allowed": False, "reason": "denied by tools.deny ('edit')"}
    assert decisions["read"]["allowed"] and not decisions["apply_patch"]["allowed"]
    assert data["exec"] == {"security": "allowlist", "ask": "on-miss", "allowlist": []}


def test_explain_the_main_session_as_text(moltbot_home):
    result = run(moltbot_home)
    assert result.exit_code == 0, result.output
    assert "sandbox  no: non-main mode and agent:main:main is the agent's main session" in result.stdout
    assert re.search(r"allow +apply_patch +allowed by profile 'full'", result.stdout)
    assert "exec     security=allowlist ask=on-miss (0 allowlist entries" in result.stdout

"""Real entry points from fake distributions: a broken plugin is isolated, duplicates are
rejected naming both distributions, strict mode makes failures fatal, deny skips the import."""

import json
from pathlib import Path

FAKE_DISTS = Path(__file__).resolve().parent / "data" / "fake_dists"


def plugins_json(run_cli, *args):
    result = run_cli(*args, "plugins", "--json", extra_path=FAKE_DISTS)
    return result, {p["name"]: p for p in json.loads(result.stdout)["plugins"]}


def test_broken_plugin_is_reported_and_others_load(run_cli):
    result, found = plugins_json(run_cli)
    assert found["fake-broken"]["status"] == "failed"
    assert "moltbot_dependency_that_is_not_installed" in found["fake-broken"]["reason"]
    assert found["echo"]["status"] == "active"
    assert found["echo"]["provides"] == {"channels": ["echo"]}
    assert result.returncode == 1


def test_duplicate_channel_names_name_both_distributions(run_cli):
    _, found = plugins_json(run_cli)
    for name in ("fake-ok", "fake-dup"):
        assert found[name]["status"] == "failed"
        assert "moltbot-fake-ok" in found[name]["reason"]
        assert "moltbot-fake-dup" in found[name]["reason"]


def test_strict_plugins_makes_a_failure_fatal(run_cli):
    result = run_cli("--strict-plugins", "plugins", extra_path=FAKE_DISTS)
    assert result.returncode != 0
    assert "moltbot-fake-broken" in result.stderr


def test_denied_plugins_are_blocked_and_not_imported(run_cli, moltbot_home):
    moltbot_home.mkdir(parents=True)
    (moltbot_home / "moltbot.json").write_text(
        json.dumps({"plugins": {"deny": ["fake-broken", "moltbot-fake-dup"]}})
    )
    result, found = plugins_json(run_cli)
    assert found["fake-broken"]["status"] == "blocked"
    assert found["fake-dup"]["status"] == "blocked"
    assert found["fake-ok"]["status"] == "active"
    assert result.returncode == 0

"""Tool policy: profiles, groups, allow/deny (deny wins), per-agent overrides and sandbox modes."""

import pytest

from moltbot.config import Settings
from moltbot.tools import resolve_policy

TOOLS = {
    "read": "group:fs",
    "write": "group:fs",
    "edit": "group:fs",
    "apply_patch": "group:fs",
    "exec": "group:runtime",
    "process": "group:runtime",
    "sessions_list": None,
    "session_status": None,
    "message": None,
    "web_fetch": None,
    "browser": None,
    "weather": "group:web",
}


def policy(config=None, session="agent:main:main", agent="main"):
    return resolve_policy(Settings.model_validate(config or {}), TOOLS, agent_id=agent, session_key=session)


def reasons(p):
    return {d.name: d.reason for d in p.decisions}


def test_defaults_main_session_gets_everything():
    p = policy()
    assert not p.sandboxed and set(p.allowed) == set(TOOLS)


def test_non_main_sessions_are_sandboxed_to_the_allowlist_minus_denylist():
    p = policy(session="agent:main:telegram:group:42")
    assert p.sandboxed and "is not agent:main:main" in p.sandbox_reason
    assert set(p.allowed) == {"read", "write", "edit", "sessions_list"}
    r = reasons(p)
    assert r["browser"] == "sandboxed session: denied by agents.defaults.sandbox.denylist ('browser')"
    assert r["exec"] == "sandboxed session: not in agents.defaults.sandbox.allowlist"


def test_sandbox_lists_take_groups_and_the_denylist_wins():
    sandbox = {"mode": "all", "allowlist": ["group:fs", "exec"], "denylist": ["apply_patch", "exec"]}
    p = policy({"agents": {"defaults": {"sandbox": sandbox}}})
    assert p.sandboxed and p.sandbox_reason == "agents.defaults.sandbox.mode is all"
    assert set(p.allowed) == {"read", "write", "edit"}


def test_mode_off_sandboxes_nobody():
    p = policy({"agents": {"defaults": {"sandbox": {"mode": "off"}}}}, session="agent:main:x")
    assert not p.sandboxed and set(p.allowed) == set(TOOLS)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("minimal", {"session_status"}),
        (
            "coding",
            {"read", "write", "edit", "apply_patch", "exec", "process", "sessions_list", "session_status"},
        ),
        ("messaging", {"message", "sessions_list", "session_status"}),
        ("full", set(TOOLS)),
    ],
)
def test_profiles(profile, expected):
    p = policy({"tools": {"profile": profile}})
    assert set(p.allowed) == expected
    if profile != "full":
        assert reasons(p)["browser"] == f"not in profile {profile!r} (tools.profile)"


def test_a_tools_declared_group_counts():
    p = policy({"tools": {"allow": ["group:web"]}})
    assert set(p.allowed) == {"web_fetch", "weather"}


def test_deny_wins_over_allow_and_patterns_work():
    p = policy({"tools": {"allow": ["group:fs", "exec", "SESSIONS_*"], "deny": ["write", "exec"]}})
    assert set(p.allowed) == {"read", "edit", "apply_patch", "sessions_list"}
    assert reasons(p)["exec"] == "denied by tools.deny ('exec')"
    assert reasons(p)["message"] == "not in tools.allow"


def test_per_agent_overrides_narrow_and_replace_the_profile():
    config = {
        "tools": {"deny": ["browser"], "byAgent": {"work": {"profile": "coding", "deny": ["group:runtime"]}}}
    }
    work = policy(config, session="agent:work:main", agent="work")
    assert set(work.allowed) == {"read", "write", "edit", "apply_patch", "sessions_list", "session_status"}
    assert reasons(work)["exec"] == "denied by tools.byAgent.work.deny ('group:runtime')"
    assert reasons(work)["message"] == "not in profile 'coding' (tools.byAgent.work.profile)"
    other = policy(config)
    assert "exec" in other.allowed and "browser" not in other.allowed


def test_the_main_session_of_another_agent_is_not_this_agents_main():
    assert policy(session="agent:other:main").sandboxed
    assert not policy(session="agent:other:main", agent="other").sandboxed


def test_json_shape():
    data = policy(session="agent:main:x").to_json()
    assert data["sandboxed"] is True
    assert {
        "name": "read",
        "allowed": True,
        "reason": "sandboxed session: allowed by agents.defaults.sandbox.allowlist ('read')",
    } in data["tools"]

"""Which tools a session may use, and why: profiles, groups, allow/deny and the sandbox.

Resolved once per session before the model call; only allowed tools' schemas are sent. Each
layer can only narrow the set, and deny always wins:

1. the profile (``tools.byAgent.<id>.profile`` or ``tools.profile``);
2. ``tools.allow`` / ``tools.deny``;
3. ``tools.byAgent.<id>.allow`` / ``deny``;
4. for a sandboxed session, ``agents.defaults.sandbox.allowlist`` minus its ``denylist``.

Entries are tool names, ``group:<name>`` or ``fnmatch`` patterns (``sessions_*``), case-insensitive.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moltbot.config.model import Settings, ToolPolicyConfig

GROUPS: dict[str, frozenset[str]] = {
    "group:fs": frozenset({"read", "write", "edit", "apply_patch"}),
    "group:runtime": frozenset({"exec", "bash", "process"}),
    "group:sessions": frozenset(
        {
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "session_status",
            "agents_list",
        }
    ),
    "group:memory": frozenset({"memory_search", "memory_get"}),
    "group:web": frozenset({"web_search", "web_fetch"}),
    "group:messaging": frozenset({"message"}),
}
"""Built-in groups; a tool declaring ``group = "group:x"`` joins (or creates) that group."""

PROFILES: dict[str, tuple[str, ...] | None] = {
    "minimal": ("session_status",),
    "coding": ("group:fs", "group:runtime", "group:sessions", "group:memory", "image"),
    "messaging": ("group:messaging", "sessions_list", "sessions_history", "sessions_send", "session_status"),
    "full": None,
}
"""Profile -> the entries it allows (``None``: everything)."""


@dataclass(frozen=True)
class ToolDecision:
    name: str
    allowed: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "allowed": self.allowed, "reason": self.reason}


@dataclass(frozen=True)
class SessionPolicy:
    """The outcome for one session: whether it is sandboxed, and a decision per tool."""

    session_key: str
    agent_id: str
    sandboxed: bool
    sandbox_reason: str
    decisions: tuple[ToolDecision, ...]

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.decisions if d.allowed)

    def allows(self, name: str) -> bool:
        return name in self.allowed

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session_key,
            "agent": self.agent_id,
            "sandboxed": self.sandboxed,
            "sandboxReason": self.sandbox_reason,
            "tools": [d.to_json() for d in self.decisions],
        }


def main_session_key(agent_id: str) -> str:
    """The owner's main session, the one ``non-main`` leaves on the host."""
    return f"agent:{agent_id}:main"


def sandbox_decision(settings: Settings, agent_id: str, session_key: str) -> tuple[bool, str]:
    mode = settings.agents.defaults.sandbox.mode
    if mode == "off":
        return False, "agents.defaults.sandbox.mode is off"
    if mode == "all":
        return True, "agents.defaults.sandbox.mode is all"
    if session_key.lower() == main_session_key(agent_id).lower():
        return False, f"non-main mode and {session_key} is the agent's main session"
    return True, f"non-main mode and {session_key} is not {main_session_key(agent_id)}"


def _groups(tool_groups: Mapping[str, str | None]) -> dict[str, frozenset[str]]:
    groups = dict(GROUPS)
    for name, group in tool_groups.items():
        if group:
            groups[group.lower()] = groups.get(group.lower(), frozenset()) | {name}
    return groups


def _match(name: str, entries: Iterable[str], groups: Mapping[str, frozenset[str]]) -> str | None:
    """The first entry that covers ``name`` (for the reason text), else ``None``."""
    lowered = name.lower()
    for entry in entries:
        key = entry.strip().lower()
        if key.startswith("group:"):
            if lowered in groups.get(key, frozenset()):
                return entry
        elif fnmatch.fnmatchcase(lowered, key):
            return entry
    return None


def resolve_policy(
    settings: Settings,
    tool_groups: Mapping[str, str | None],
    *,
    agent_id: str,
    session_key: str,
) -> SessionPolicy:
    """Decide every tool in ``tool_groups`` (name -> declared group) for one session."""
    groups = _groups(tool_groups)
    tools = settings.tools
    agent = tools.by_agent.get(agent_id, ToolPolicyConfig())
    profile = agent.profile or tools.profile or "full"
    profile_where = f"tools.byAgent.{agent_id}.profile" if agent.profile else "tools.profile"
    sandboxed, sandbox_reason = sandbox_decision(settings, agent_id, session_key)
    sandbox = settings.agents.defaults.sandbox
    decisions = []
    for name in sorted(tool_groups):
        decisions.append(
            ToolDecision(
                name,
                *_decide(name, groups, profile, profile_where, tools, agent, agent_id, sandboxed, sandbox),
            )
        )
    return SessionPolicy(session_key, agent_id, sandboxed, sandbox_reason, tuple(decisions))


def _decide(
    name: str,
    groups: Mapping[str, frozenset[str]],
    profile: str,
    profile_where: str,
    tools: ToolPolicyConfig,
    agent: ToolPolicyConfig,
    agent_id: str,
    sandboxed: bool,
    sandbox: Any,
) -> tuple[bool, str]:
    layers = ((tools, "tools"), (agent, f"tools.byAgent.{agent_id}"))
    for policy, where in layers:
        if hit := _match(name, policy.deny, groups):
            return False, f"denied by {where}.deny ({hit!r})"
    if sandboxed and (hit := _match(name, sandbox.denylist, groups)):
        return False, f"sandboxed session: denied by agents.defaults.sandbox.denylist ({hit!r})"
    entries = PROFILES[profile]
    if entries is not None and not _match(name, entries, groups):
        return False, f"not in profile {profile!r} ({profile_where})"
    for policy, where in layers:
        if policy.allow and not _match(name, policy.allow, groups):
            return False, f"not in {where}.allow"
    if sandboxed:
        if not (hit := _match(name, sandbox.allowlist, groups)):
            return False, "sandboxed session: not in agents.defaults.sandbox.allowlist"
        return True, f"sandboxed session: allowed by agents.defaults.sandbox.allowlist ({hit!r})"
    return True, f"allowed by profile {profile!r}" + (
        " and tools.allow" if tools.allow or agent.allow else ""
    )

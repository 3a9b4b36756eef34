"""Building the installed tools and picking a session's tools under the policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from moltbot.config.model import Settings
from moltbot.interfaces.provider import ToolSchema
from moltbot.interfaces.tool import Tool
from moltbot.specs import BuildContext, ToolSpec
from moltbot.tools.invoke import tool_schema
from moltbot.tools.policy import SessionPolicy, resolve_policy


def build_tools(specs: Mapping[str, ToolSpec], settings: Settings, state_dir: Path) -> dict[str, Tool]:
    """One instance per registered tool (default config); a factory that fails is logged and skipped."""
    tools: dict[str, Tool] = {}
    for name, spec in sorted(specs.items()):
        ctx = BuildContext(name=name, state_dir=state_dir / "tools" / name, settings=settings)
        try:
            tool = spec.factory(spec.config.model_validate({}), ctx)
        except Exception as exc:
            logger.opt(exception=exc).error("tool {} could not be built; it is unavailable", name)
            continue
        if tool.name != name:
            logger.error("tool spec {!r} built a tool named {!r}; it is unavailable", name, tool.name)
            continue
        tools[name] = tool
    return tools


@dataclass(frozen=True)
class SessionTools:
    """A session's policy and the tools it allows (the only ones whose schemas reach the model)."""

    policy: SessionPolicy
    tools: Mapping[str, Tool]

    @property
    def schemas(self) -> tuple[ToolSchema, ...]:
        return tuple(tool_schema(t) for t in self.tools.values())


def session_tools(
    tools: Mapping[str, Tool], settings: Settings, *, agent_id: str, session_key: str
) -> SessionTools:
    policy = resolve_policy(
        settings, {n: t.group for n, t in tools.items()}, agent_id=agent_id, session_key=session_key
    )
    return SessionTools(policy, {n: tools[n] for n in policy.allowed})

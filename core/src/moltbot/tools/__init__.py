"""Agent tools: the invoker, the per-session policy, path confinement, core tools, approvals."""

from moltbot.interfaces.tool import (
    ApprovalDecision,
    ApprovalRequest,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
)
from moltbot.tools.invoke import describe_validation_error, invoke_tool, tool_schema, tool_schemas
from moltbot.tools.policy import (
    GROUPS,
    PROFILES,
    SessionPolicy,
    ToolDecision,
    main_session_key,
    resolve_policy,
    sandbox_decision,
)
from moltbot.tools.toolset import SessionTools, build_tools, session_tools

__all__ = [
    "GROUPS",
    "PROFILES",
    "ApprovalDecision",
    "ApprovalRequest",
    "SessionPolicy",
    "SessionTools",
    "Tool",
    "ToolContext",
    "ToolDecision",
    "ToolError",
    "ToolResult",
    "build_tools",
    "describe_validation_error",
    "invoke_tool",
    "main_session_key",
    "resolve_policy",
    "sandbox_decision",
    "session_tools",
    "tool_schema",
    "tool_schemas",
]

"""Tools over the agent's own sessions: list them, read one, message one, this one's status.

They act through the running :class:`AgentRuntime`, which binds itself to them after building
the tools (``bind``); outside a runtime they answer with a tool error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field

from moltbot.interfaces.tool import Tool, ToolContext, ToolError
from moltbot.sessions.keys import InvalidSessionKey

if TYPE_CHECKING:
    from moltbot.agent.runtime import AgentRuntime


class _SessionTool(Tool):
    group: ClassVar[str | None] = "group:sessions"

    def __init__(self, config: Any = None, ctx: Any = None) -> None:
        self.runtime: AgentRuntime | None = None

    def bind(self, runtime: AgentRuntime) -> None:
        self.runtime = runtime

    def rt(self) -> AgentRuntime:
        if self.runtime is None:
            raise ToolError("session tools work only inside the agent runtime")
        return self.runtime

    def key(self, raw: str) -> str:
        try:
            return self.rt().normalize_key(raw)
        except InvalidSessionKey as exc:
            raise ToolError(str(exc)) from None


class ListParams(BaseModel):
    limit: int = Field(20, ge=1, le=200)


class SessionsListTool(_SessionTool):
    name: ClassVar[str] = "sessions_list"
    description: ClassVar[str] = "List your sessions (key, last update, message count)."
    parameters: ClassVar[type[BaseModel]] = ListParams

    async def run(self, ctx: ToolContext, params: ListParams) -> str:
        store = await self.rt().app.service("sessions").store(ctx.agent_id)
        rows = store.list()[: params.limit]
        if not rows:
            return "No sessions."
        return "\n".join(f"{m.key}  updated {m.updated_at[:16]}  {m.message_count} messages" for m in rows)


class HistoryParams(BaseModel):
    session_key: str = Field(description="A key from sessions_list.")
    limit: int = Field(20, ge=1, le=200)


class SessionsHistoryTool(_SessionTool):
    name: ClassVar[str] = "sessions_history"
    description: ClassVar[str] = "Read the last messages of a session."
    parameters: ClassVar[type[BaseModel]] = HistoryParams

    async def run(self, ctx: ToolContext, params: HistoryParams) -> str:
        key = self.key(params.session_key)
        session = await (await self.rt().store(key)).get(key)
        if session is None:
            raise ToolError(f"no session {key}")
        lines = [
            f"{e.get('role')}: {e.get('content')}"
            for e in session.entries
            if e.get("type") == "message" and e.get("content")
        ]
        return "\n".join(lines[-params.limit :]) or "(no messages)"


class SendParams(BaseModel):
    session_key: str
    message: str = Field(min_length=1)
    wait: bool = Field(True, description="Wait for the reply (up to timeout_seconds).")
    timeout_seconds: float = Field(60, gt=0, le=600)


class SessionsSendTool(_SessionTool):
    name: ClassVar[str] = "sessions_send"
    description: ClassVar[str] = "Send a message to another session; returns its reply."
    parameters: ClassVar[type[BaseModel]] = SendParams

    async def run(self, ctx: ToolContext, params: SendParams) -> str:
        key = self.key(params.session_key)
        if key == ctx.session_key:
            raise ToolError("cannot message the session you are running in")
        runtime = self.rt()
        run_id = await runtime.submit(session_key=key, text=params.message)
        if not params.wait:
            return f"Queued as run {run_id}."
        result = await runtime.wait(run_id, timeout=params.timeout_seconds)
        if result["status"] == "timeout":
            return f"No reply within {params.timeout_seconds:g} s (run {run_id} continues)."
        if result["status"] != "ok":
            raise ToolError(f"the run ended with {result['status']}: {result.get('error') or ''}".strip())
        return result["text"] or "(empty reply)"


class StatusParams(BaseModel):
    pass


class SessionStatusTool(_SessionTool):
    name: ClassVar[str] = "session_status"
    description: ClassVar[str] = "This session's model, token usage and context size."
    parameters: ClassVar[type[BaseModel]] = StatusParams

    async def run(self, ctx: ToolContext, params: StatusParams) -> str:
        info = await self.rt().session_info(ctx.session_key)
        return (
            f"session {info['key']} ({info.get('sessionId')}); model {info.get('model')}; "
            f"{info.get('messageCount', 0)} messages; tokens {info.get('inputTokens', 0)} in / "
            f"{info.get('outputTokens', 0)} out; context ~{info['contextTokens']} of {info['contextWindow']}"
        )

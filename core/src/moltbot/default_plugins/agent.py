"""The built-in agent: the ``agent`` service, its gateway methods, the OpenAI-compatible HTTP
API (off by default), the session tools and ``moltbot agent``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from moltbot import hookimpl
from moltbot.app import App
from moltbot.interfaces.service import Service
from moltbot.specs import CommandSpec, MethodSpec, RouteSpec, ServiceSpec, ToolSpec


def _service(app: App) -> Service:
    from moltbot.agent import AgentRuntime

    return AgentRuntime(app)


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name="agent",
        factory=_service,
        after=("sessions",),
        summary="Agent runs: per-session lanes, the model/tool loop, events and traces",
        events=("agent", "chat"),
    )


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    from moltbot.agent import rpc, rpc_sessions

    read, write, admin = "operator.read", "operator.write", "operator.admin"
    methods: list[tuple[str, Any, Any, str, bool, str]] = [
        ("agent", rpc.agent, rpc.AgentParams, write, True, "Queue an agent turn (agent.wait: result)"),
        ("agent.wait", rpc.agent_wait, rpc.WaitParams, write, False, "Wait for a run's final result"),
        ("chat.send", rpc.chat_send, rpc.ChatSendParams, write, True, "Send a chat message (WebChat)"),
        ("chat.history", rpc.chat_history, rpc.ChatHistoryParams, read, False, "A session's messages"),
        ("chat.abort", rpc.chat_abort, rpc.ChatAbortParams, write, False, "Abort a session's run and queue"),
        ("sessions.list", rpc_sessions.sessions_list, rpc_sessions.ListParams, read, False, "Sessions"),
        ("sessions.preview", rpc_sessions.sessions_preview, rpc_sessions.PreviewParams, read, False,
         "Last messages of some sessions"),
        ("sessions.patch", rpc_sessions.sessions_patch, rpc_sessions.PatchParams, admin, False,
         "Set a session's model, queue mode or label"),
        ("sessions.reset", rpc_sessions.sessions_reset, rpc_sessions.ResetParams, admin, True,
         "Start a fresh session under a key"),
        ("sessions.delete", rpc_sessions.sessions_delete, rpc_sessions.DeleteParams, admin, True,
         "Forget a session (its transcripts are kept aside)"),
        ("sessions.compact", rpc_sessions.sessions_compact, rpc_sessions.CompactParams, admin, True,
         "Summarize a session's older messages now"),
        ("models.list", rpc.models_list, None, read, False, "Configured models"),
        ("usage.status", rpc.usage_status, None, read, False, "Tokens and cost per provider"),
    ]  # fmt: skip
    for name, handler, params, scope, side_effects, summary in methods:
        yield MethodSpec(
            name=name, handler=handler, params=params, scope=scope, side_effects=side_effects, summary=summary
        )


@hookimpl
def moltbot_register_http_routes() -> Iterator[RouteSpec]:
    from moltbot.agent import openai_http

    yield RouteSpec(
        path="/v1/chat/completions",
        handler=openai_http.completions_route,
        methods=("POST",),
        summary="OpenAI-compatible chat with the agent (gateway.http.endpoints.chatCompletions)",
    )
    yield RouteSpec(
        path="/v1/models", handler=openai_http.models_route, summary="The agents as OpenAI models"
    )


@hookimpl
def moltbot_register_tools() -> Iterator[ToolSpec]:
    from moltbot.agent import session_tools as st

    yield ToolSpec(name="sessions_list", factory=st.SessionsListTool, summary="List the agent's sessions")
    yield ToolSpec(name="sessions_history", factory=st.SessionsHistoryTool, summary="Read another session")
    yield ToolSpec(name="sessions_send", factory=st.SessionsSendTool, summary="Message another session")
    yield ToolSpec(
        name="session_status", factory=st.SessionStatusTool, summary="This session's model and usage"
    )


def _agent_command() -> click.Command:
    from moltbot.cli.agent_cmd import agent_command

    return agent_command


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    yield CommandSpec(name="agent", factory=_agent_command, summary="Send one message to the agent")

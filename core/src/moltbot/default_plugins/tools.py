"""The built-in tools (read, write, edit, apply_patch), exec approvals and `moltbot sandbox`."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any, Literal

import click

from moltbot import hookimpl
from moltbot.config.base import StrictModel
from moltbot.interfaces.rpc import RpcContext, RpcError
from moltbot.specs import CommandSpec, MethodSpec, ServiceSpec, ToolSpec

APPROVALS_SERVICE = "approvals"


@hookimpl
def moltbot_register_tools() -> Iterator[ToolSpec]:
    from moltbot.tools.fs import EditTool, ReadTool, WriteTool
    from moltbot.tools.patch import ApplyPatchTool

    yield ToolSpec(name="read", factory=ReadTool, summary="Read a workspace text file")
    yield ToolSpec(name="write", factory=WriteTool, summary="Create or overwrite a workspace file")
    yield ToolSpec(name="edit", factory=EditTool, summary="Replace one exact occurrence in a file")
    yield ToolSpec(name="apply_patch", factory=ApplyPatchTool, summary="Apply a multi-file patch")


def _approvals(app: Any) -> Any:
    from moltbot.tools.approvals import ApprovalRegistry

    return ApprovalRegistry(
        app.paths.state_dir,
        timeout=app.settings.tools.exec.approval_timeout / 1000,
        gateway=lambda: app.services.get("gateway"),
    )


@hookimpl
def moltbot_register_services() -> Iterator[ServiceSpec]:
    yield ServiceSpec(
        name=APPROVALS_SERVICE,
        factory=_approvals,
        summary="Pending exec approvals and the allow-always list",
        events=("exec.approval.requested", "exec.approval.resolved"),
    )


class ResolveParams(StrictModel):
    id: str
    decision: Literal["allow-once", "allow-always", "deny"]


def _registry(ctx: RpcContext) -> Any:
    registry = ctx.app.services.get(APPROVALS_SERVICE)
    if registry is None:
        raise RpcError("UNAVAILABLE", "the approvals service is not running in this process")
    return registry


async def resolve_approval(ctx: RpcContext) -> dict[str, Any]:
    """``exec.approval.resolve`` {id, decision}: answer a pending request."""
    params: ResolveParams = ctx.params
    try:
        pending = _registry(ctx).resolve(params.id, params.decision)
    except KeyError:
        raise RpcError(
            "NOT_FOUND", f"no pending approval {params.id!r} (unknown, already answered or expired)"
        ) from None
    return {"id": pending.id, "decision": params.decision, "command": pending.request.command}


async def list_approvals(ctx: RpcContext) -> dict[str, Any]:
    """``exec.approval.list``: the requests waiting for an answer."""
    return {"pending": _registry(ctx).pending()}


@hookimpl
def moltbot_register_gateway_methods() -> Iterator[MethodSpec]:
    yield MethodSpec(
        name="exec.approval.resolve",
        handler=resolve_approval,
        scope="operator.approvals",
        params=ResolveParams,
        summary="Answer an exec approval request: allow-once, allow-always or deny",
    )
    yield MethodSpec(
        name="exec.approval.list",
        handler=list_approvals,
        scope="operator.approvals",
        summary="Exec approval requests waiting for an answer",
    )


@hookimpl
def moltbot_register_commands() -> Iterator[CommandSpec]:
    def factory() -> click.Command:
        return import_module("moltbot.cli.sandbox_cmd").sandbox_command

    yield CommandSpec(name="sandbox", factory=factory, summary="Explain which tools a session gets and why")

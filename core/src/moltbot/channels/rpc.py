"""Gateway methods: ``channels.status``, ``send``, ``pairing.list|approve|reject``.

Pairing methods edit the on-disk stores (the same ones the ``moltbot pairing`` CLI edits), so
they work whether or not the channel is running.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from moltbot.channels.pairing import PairingRequest, PairingStore
from moltbot.channels.service import ChannelsService, credentials_dir
from moltbot.config.base import StrictModel
from moltbot.interfaces.rpc import RpcContext, RpcError


class SendParams(StrictModel):
    channel: str
    to: str = Field(min_length=1)
    message: str = Field(min_length=1)
    account: str = Field("default", alias="accountId")
    """OpenClaw's ``accountId``; ``account`` is accepted too."""


class PairingListParams(StrictModel):
    channel: str | None = None


class PairingCodeParams(StrictModel):
    channel: str
    code: str = Field(min_length=1)
    notify: bool = False


def _service(ctx: RpcContext) -> ChannelsService:
    service = ctx.app.services.get("channels")
    if service is None:
        raise RpcError("UNAVAILABLE", "the channels service is not running in this gateway")
    return service


def request_json(channel: str, request: PairingRequest) -> dict[str, Any]:
    return {
        "channel": channel,
        "code": request.code,
        "sender": request.sender,
        "senderName": request.sender_name,
        "createdAt": request.created_at,
        "lastSeenAt": request.last_seen_at,
    }


def _store(ctx: RpcContext, channel: str) -> PairingStore:
    try:
        return PairingStore(credentials_dir(ctx.app.paths.state_dir), channel)
    except ValueError as exc:
        raise RpcError("INVALID_REQUEST", str(exc)) from None


async def channels_status(ctx: RpcContext) -> dict[str, Any]:
    return _service(ctx).status()


async def send(ctx: RpcContext) -> dict[str, Any]:
    params: SendParams = ctx.params
    service = _service(ctx)
    try:
        ids = await service.send_text(
            params.channel,
            params.to,
            params.message,
            idempotency_key=ctx.idempotency_key or uuid.uuid4().hex,
            account=params.account,
        )
    except LookupError as exc:
        raise RpcError("NOT_FOUND", str(exc)) from None
    return {"channel": params.channel, "to": params.to, "messageIds": ids}


async def pairing_list(ctx: RpcContext) -> dict[str, Any]:
    params: PairingListParams = ctx.params
    names = [params.channel] if params.channel else sorted(ctx.app.settings.channels)
    requests = [request_json(n, r) for n in names for r in _store(ctx, n).list_pending()]
    return {"requests": requests}


async def pairing_approve(ctx: RpcContext) -> dict[str, Any]:
    params: PairingCodeParams = ctx.params
    request = _store(ctx, params.channel).approve(params.code)
    if request is None:
        raise RpcError("NOT_FOUND", f"no pending {params.channel} pairing request with code {params.code!r}")
    notified = False
    if params.notify and "channels" in ctx.app.services:
        await _service(ctx).send_text(
            params.channel,
            request.sender,
            "moltbot: you are approved; send your message again.",
            idempotency_key=f"approved:{request.code}",
        )
        notified = True
    return {"approved": request_json(params.channel, request), "notified": notified}


async def pairing_reject(ctx: RpcContext) -> dict[str, Any]:
    params: PairingCodeParams = ctx.params
    request = _store(ctx, params.channel).reject(params.code)
    if request is None:
        raise RpcError("NOT_FOUND", f"no pending {params.channel} pairing request with code {params.code!r}")
    return {"rejected": request_json(params.channel, request)}

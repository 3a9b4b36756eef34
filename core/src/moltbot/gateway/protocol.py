"""OpenClaw gateway protocol v4: frame shapes, the ``connect`` params, and encoders.

Frames are JSON text: ``{type:"req", id, method, params}``, ``{type:"res", id, ok, payload|error}``,
``{type:"event", event, payload, seq?}``. Encoding is on the hot path, so it is plain ``json``
with compact separators and no per-frame model validation.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 4
PRE_AUTH_MAX_FRAME = 64 * 1024
"""Bytes a client may send before ``hello-ok``; larger first frames close the socket (1009)."""

OPERATOR_SCOPES = frozenset(
    {"operator.read", "operator.write", "operator.admin", "operator.approvals", "operator.pairing"}
)
ROLES = frozenset({"operator", "node"})

GATEWAY_EVENTS = ("connect.challenge", "tick", "presence", "health", "shutdown", "config.changed")
"""Events the gateway itself emits (``hello-ok.features.events``)."""

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class ClientInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field("unknown", max_length=128)
    version: str = Field("", max_length=64)
    platform: str = Field("", max_length=64)
    mode: str = Field("", max_length=64)
    deviceFamily: str | None = Field(None, max_length=64)
    displayName: str | None = Field(None, max_length=128)


class AuthParams(BaseModel):
    model_config = ConfigDict(extra="allow")

    token: str | None = Field(None, max_length=4096)
    password: str | None = Field(None, max_length=4096)


class DeviceProof(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(max_length=128)
    publicKey: str = Field(max_length=128)
    signature: str = Field(max_length=256)
    signedAt: int
    nonce: str = Field(max_length=128)


class ConnectParams(BaseModel):
    """The first request's params. Unknown keys (caps, commands, locale...) are tolerated, as
    OpenClaw clients send fields newer than this server."""

    model_config = ConfigDict(extra="allow")

    minProtocol: int
    maxProtocol: int
    client: ClientInfo = ClientInfo()
    role: Literal["operator", "node"] = "operator"
    scopes: list[str] = Field(default_factory=list, max_length=64)
    auth: AuthParams = AuthParams()
    device: DeviceProof | None = None


def event_head(event: str, payload: Any) -> str:
    """An event frame without its ``seq``: ``head + str(seq) + "}"`` is the whole frame. A
    broadcast encodes the payload once for every connection this way."""
    return f'{{"type":"event","event":{_dumps(event)},"payload":{_dumps(payload)},"seq":'


def encode_event(event: str, payload: Any, seq: int | None = None) -> str:
    frame: dict[str, Any] = {"type": "event", "event": event, "payload": payload}
    if seq is not None:
        frame["seq"] = seq
    return _dumps(frame)


def encode_ok(rid: str, payload: Any) -> str:
    return _dumps({"type": "res", "id": rid, "ok": True, "payload": payload})


def encode_error(rid: str | None, error: dict[str, Any]) -> str:
    return _dumps({"type": "res", "id": rid, "ok": False, "error": error})


def scope_allows(granted: frozenset[str], needed: str) -> bool:
    """``operator.admin`` implies every scope; ``operator.write`` implies ``operator.read``."""
    if needed in granted or "operator.admin" in granted:
        return True
    return needed == "operator.read" and "operator.write" in granted

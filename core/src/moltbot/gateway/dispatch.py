"""The method registry and one RPC call's path: scope, params, idempotency, timeout, metrics."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger
from pydantic import ValidationError

from moltbot.gateway.limits import CallWindows, IdempotencyCache
from moltbot.gateway.protocol import encode_error, encode_ok, scope_allows
from moltbot.interfaces.rpc import Accepted, RpcError
from moltbot.specs import MethodSpec

if TYPE_CHECKING:
    from moltbot.app import App

MAX_IDEMPOTENCY_KEY = 256


@dataclass(frozen=True, slots=True)
class CallContext:
    """What a handler receives (satisfies :class:`moltbot.RpcContext`)."""

    method: str
    params: Any
    app: Any
    conn_id: str
    role: str
    scopes: frozenset[str]
    idempotency_key: str | None = None


def _params_error(method: str, exc: ValidationError) -> RpcError:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "root"
        parts.append(f"at {where}: {err['msg']}")
    return RpcError("INVALID_REQUEST", f"invalid {method} params: " + "; ".join(parts))


class Dispatcher:
    """Routes ``req`` frames to :class:`MethodSpec` handlers and encodes the ``res`` frame."""

    def __init__(self, app: App, methods: Mapping[str, MethodSpec], *, request_timeout: float) -> None:
        self.app = app
        self.methods = dict(methods)
        self.request_timeout = request_timeout
        self.idempotency = IdempotencyCache()
        self.windows = CallWindows()
        self.in_flight = 0
        self.idle = trio.Event()
        self.idle.set()

    async def call(
        self,
        rid: str,
        method: str,
        params: Any,
        *,
        conn_id: str,
        role: str,
        scopes: frozenset[str],
        client: str = "",
    ) -> tuple[str, Accepted | None]:
        """Run one request and return the encoded ``res`` frame, plus the :class:`Accepted`
        whose final answer :meth:`final_frame` encodes when the handler answers twice; never
        raises except for cancellation. ``client`` (device id or IP) keys per-method limits."""
        started = time.perf_counter()
        self.in_flight += 1
        self.idle = trio.Event() if self.in_flight == 1 else self.idle
        metrics = self.app.metrics
        accepted = None
        try:
            payload = await self._call(
                method, params, conn_id=conn_id, role=role, scopes=scopes, client=client
            )
            if isinstance(payload, Accepted):
                accepted, payload = payload, payload.payload
            frame = encode_ok(rid, payload)
        except RpcError as exc:
            metrics.inc("gateway.errors", code=exc.code)
            frame = encode_error(rid, exc.to_wire())
        except Exception:
            logger.exception("gateway method {} failed", method)
            metrics.inc("gateway.errors", code="INTERNAL")
            frame = encode_error(
                rid, {"code": "INTERNAL", "message": f"{method} failed; see the gateway log"}
            )
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()
        known = method if method in self.methods else "(unknown)"
        metrics.inc("gateway.requests", method=known)
        metrics.observe("gateway.request_seconds", time.perf_counter() - started, method=known)
        return frame, accepted

    async def final_frame(self, rid: str, method: str, accepted: Accepted) -> str:
        """The second ``res`` frame of a two-stage method; never raises except for cancellation."""
        try:
            return encode_ok(rid, await accepted.final())
        except RpcError as exc:
            return encode_error(rid, exc.to_wire())
        except Exception:
            logger.exception("gateway method {} failed after accepting", method)
            return encode_error(rid, {"code": "INTERNAL", "message": f"{method} failed; see the gateway log"})

    async def _call(
        self, method: str, params: Any, *, conn_id: str, role: str, scopes: frozenset[str], client: str
    ) -> Any:
        spec = self.methods.get(method)
        if spec is None:
            raise RpcError("INVALID_REQUEST", f"unknown method: {method}")
        if role != "operator" or not scope_allows(scopes, spec.scope):
            raise RpcError(
                "FORBIDDEN",
                f"missing scope: {spec.scope}",
                details={"code": "MISSING_SCOPE", "missingScope": spec.scope, "requiredScopes": [spec.scope]},
            )
        if spec.rate_limit is not None:
            n, seconds = spec.rate_limit
            wait = self.windows.admit(method, client, n, seconds)
            if wait > 0:
                raise RpcError(
                    "RATE_LIMITED",
                    f"{method} is limited to {n} calls per {seconds:g} s; retry in {math.ceil(wait)} s",
                    retryable=True,
                    retry_after_ms=math.ceil(wait * 1000),
                )
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise RpcError("INVALID_REQUEST", f"invalid {method} params: params must be an object")
        key = None
        if "idempotencyKey" in params:
            params = dict(params)
            key = params.pop("idempotencyKey")
        valid_key = isinstance(key, str) and 0 < len(key) <= MAX_IDEMPOTENCY_KEY
        if spec.side_effects and not valid_key:
            raise RpcError(
                "INVALID_REQUEST", f"{method} requires an idempotencyKey (a string of 1-256 characters)"
            )
        value: Any = params
        if spec.params is not None:
            try:
                value = spec.params.model_validate(params)
            except ValidationError as exc:
                raise _params_error(method, exc) from None
        ctx = CallContext(method, value, self.app, conn_id, role, scopes, key if valid_key else None)

        async def invoke() -> Any:
            with trio.move_on_after(self.request_timeout) as scope:
                return await spec.handler(ctx)
            if scope.cancelled_caught:
                raise RpcError(
                    "UNAVAILABLE", f"{method} timed out after {self.request_timeout:g} s", retryable=True
                )
            return None

        if key is None or not spec.side_effects:
            return await invoke()
        return await self.idempotency.run(method, key, invoke)

"""``config.get|set|patch|apply|schema`` over the protocol.

Writes are compare-and-swap on the file's ``content_hash`` (``baseHash``), validated before
anything is written (atomic, 0600), then applied through the hot reloader at once. Secrets are
redacted in what ``config.get`` returns; writing the redaction marker back keeps the stored value.
"""

from __future__ import annotations

import json
import os
from typing import Any

import json5
from pydantic import Field

from moltbot.config import read_raw, validate, write_config
from moltbot.config.base import StrictModel
from moltbot.config.errors_format import is_secret_key
from moltbot.config.load import apply_env_overrides, expand_env
from moltbot.config.schema import full_schema, lookup
from moltbot.config.store import content_hash
from moltbot.errors import ConfigError
from moltbot.interfaces.rpc import RpcContext, RpcError

REDACTED = "__MOLTBOT_REDACTED__"


class ConfigSetParams(StrictModel):
    raw: str = Field(max_length=4 * 1024 * 1024)
    """The whole new config document (JSON5 text)."""
    base_hash: str | None = None


class ConfigWriteParams(StrictModel):
    raw: str = Field(max_length=4 * 1024 * 1024)
    """``config.patch``: a JSON merge patch (null deletes); ``config.apply``: the whole document."""
    base_hash: str


def redact(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: REDACTED if is_secret_key(k) and isinstance(v, str) and v else redact(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [redact(v) for v in node]
    return node


def restore(new: Any, old: Any, where: str = "") -> Any:
    """Replace redaction markers in ``new`` with the value stored at the same place in ``old``."""
    if isinstance(new, dict):
        return {
            k: restore(v, old.get(k) if isinstance(old, dict) else None, f"{where}.{k}" if where else k)
            for k, v in new.items()
        }
    if isinstance(new, list):
        return [
            restore(v, old[i] if isinstance(old, list) and i < len(old) else None, f"{where}[{i}]")
            for i, v in enumerate(new)
        ]
    if new == REDACTED:
        if not isinstance(old, str):
            raise RpcError(
                "INVALID_REQUEST", f"{where}: {REDACTED} stands for a stored secret, but none is stored"
            )
        return old
    return new


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge recursively, ``null`` deletes, the rest replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _parse(raw: str) -> dict[str, Any]:
    try:
        data = json5.loads(raw)
    except ValueError as exc:
        raise RpcError("INVALID_REQUEST", f"raw is not valid JSON5: {exc}") from None
    if not isinstance(data, dict):
        raise RpcError("INVALID_REQUEST", "raw must be a JSON object")
    return data


def _current(ctx: RpcContext) -> dict[str, Any]:
    try:
        return read_raw(ctx.app.paths.config_path)
    except ConfigError as exc:
        raise RpcError("UNAVAILABLE", f"the config file cannot be read: {exc.problems[0][1]}") from None


def _check_base(current: dict[str, Any], base_hash: str | None) -> None:
    if base_hash is not None and base_hash != content_hash(current):
        raise RpcError(
            "INVALID_REQUEST",
            "config changed since it was read (baseHash mismatch); get it again and retry",
            details={"code": "BASE_HASH_MISMATCH", "currentHash": content_hash(current)},
        )


async def _write(ctx: RpcContext, build: Any, base_hash: str | None) -> dict[str, Any]:
    app = ctx.app
    gateway = app.services["gateway"]
    async with gateway.config_lock:
        current = _current(ctx)
        _check_base(current, base_hash)
        updated = restore(build(current), current)
        expanded, problems = expand_env(updated, os.environ)
        try:
            if problems:
                raise ConfigError(problems)
            validate(apply_env_overrides(expanded, os.environ), app.plugins)
        except ConfigError as exc:
            raise RpcError(
                "INVALID_REQUEST",
                "invalid config; nothing was written",
                details={
                    "code": "INVALID_CONFIG",
                    "issues": [{"path": p, "message": m} for p, m in exc.problems],
                },
            ) from None
        write_config(app.paths.config_path, updated)
        result: dict[str, Any] = {
            "ok": True,
            "path": str(app.paths.config_path),
            "hash": content_hash(updated),
        }
        reloader = app.services.get("config-reload")
        if reloader is not None:
            outcome = await reloader.check(force=True)
            result["changed"] = outcome.get("changed", [])
            result["restartRequired"] = outcome.get("restartRequired", [])
        return result


async def config_get(ctx: RpcContext) -> dict[str, Any]:
    path = ctx.app.paths.config_path
    current = _current(ctx)
    issues: list[dict[str, str]] = []
    try:
        validate(apply_env_overrides(expand_env(current, os.environ)[0], os.environ), ctx.app.plugins)
    except ConfigError as exc:
        issues = [{"path": p, "message": m} for p, m in exc.problems]
    parsed = redact(current)
    return {
        "path": str(path),
        "exists": path.exists(),
        "raw": json.dumps(parsed, indent=2, ensure_ascii=False),
        "parsed": parsed,
        "hash": content_hash(current),
        "valid": not issues,
        "issues": issues,
    }


async def config_set(ctx: RpcContext) -> dict[str, Any]:
    params: ConfigSetParams = ctx.params
    new = _parse(params.raw)
    return await _write(ctx, lambda _current: new, params.base_hash)


async def config_apply(ctx: RpcContext) -> dict[str, Any]:
    params: ConfigWriteParams = ctx.params
    new = _parse(params.raw)
    return await _write(ctx, lambda _current: new, params.base_hash)


async def config_patch(ctx: RpcContext) -> dict[str, Any]:
    params: ConfigWriteParams = ctx.params
    patch = _parse(params.raw)
    return await _write(ctx, lambda current: merge_patch(current, patch), params.base_hash)


async def config_schema(ctx: RpcContext) -> dict[str, Any]:
    return {"schema": full_schema(ctx.app.plugins)}


class SchemaLookupParams(StrictModel):
    path: str = Field(min_length=1, max_length=512)


async def config_schema_lookup(ctx: RpcContext) -> dict[str, Any]:
    """``config.schema.lookup {path}``: the schema of one config key, references resolved."""
    params: SchemaLookupParams = ctx.params
    found = lookup(full_schema(ctx.app.plugins), params.path)
    if found is None:
        raise RpcError("NOT_FOUND", f"no config key {params.path!r} (see config.schema for the tree)")
    return {"path": params.path, "schema": found}

"""Keys and stored bytes: ``"<namespace>:<sha256>"`` keys and JSON values with their expiry.

A backend stores an *envelope*: 8 bytes of absolute expiry (the cache's clock, seconds; negative
for none) followed by the JSON text. The expiry travels with the value so an entry promoted from
the backend into memory never outlives the backend's copy. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from typing import Any

_NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_HEADER = struct.Struct("!d")


def check_namespace(namespace: str) -> str:
    if not _NAMESPACE_RE.match(namespace):
        raise ValueError(f"cache namespace {namespace!r} must be lower-case letters, digits, '.', '_' or '-'")
    return namespace


def cache_key(namespace: str, key: str) -> str:
    """The stored key: the namespace in clear (so it can be cleared) and the key hashed."""
    return f"{namespace}:{hashlib.sha256(key.encode()).hexdigest()}"


def dumps(value: Any) -> bytes:
    """JSON text of ``value``; a value JSON cannot represent is the caller's bug, said clearly."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cache values must be JSON-serialisable: {exc}") from None


def loads(data: bytes) -> Any:
    return json.loads(data)


def wrap(payload: bytes, expires: float | None) -> bytes:
    return _HEADER.pack(-1.0 if expires is None else expires) + payload


def unwrap(data: bytes) -> tuple[bytes, float | None]:
    """``(payload, expires)``; raises ``ValueError`` for bytes that are not an envelope."""
    if len(data) < _HEADER.size:
        raise ValueError("cache entry is shorter than its header")
    (expires,) = _HEADER.unpack_from(data)
    return data[_HEADER.size :], None if expires < 0 else expires

"""Turn an HTTP error answer (status, headers, JSON body) into a classified ProviderError.

Shared by the provider plugins so that OpenAI, Anthropic and OpenAI-compatible servers map
their errors the same way; the failover policy only ever looks at ``ProviderError.kind``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from moltbot.interfaces.provider import ErrorKind, ProviderError

_TYPE_KINDS: dict[str, ErrorKind] = {
    "authentication_error": "auth",
    "permission_error": "auth",
    "invalid_api_key": "auth",
    "billing_error": "billing",
    "insufficient_quota": "billing",
    "rate_limit_error": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "overloaded_error": "overloaded",
    "api_error": "overloaded",
    "server_error": "overloaded",
    "timeout_error": "timeout",
    "context_length_exceeded": "context_overflow",
    "request_too_large": "context_overflow",
}
"""Error ``type`` / ``code`` strings of OpenAI and Anthropic that decide the kind by themselves."""

_OVERFLOW_WORDS = (
    "context_length_exceeded",
    "prompt is too long",
    "maximum context length",
    "too many tokens",
)
_BILLING_WORDS = ("insufficient_quota", "credit balance", "billing", "insufficient credit", "quota exceeded")


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lower:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
        if "retry-after" in lower:
            value = lower["retry-after"].strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None
    return None


def error_fields(body: Any) -> tuple[str, str]:
    """``(type or code, message)`` from OpenAI's ``{"error": {...}}`` or Anthropic's
    ``{"type": "error", "error": {...}}``; empty strings when the body has neither."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return "", error
    if not isinstance(error, dict):
        return "", ""
    code = error.get("code")
    kind = error.get("type") or ""
    if isinstance(code, str) and code:
        kind = code if kind in ("", "invalid_request_error", "error") else kind
    message = error.get("message") or ""
    return str(kind), str(message)


def classify(
    status: int | None, body: Any, headers: Mapping[str, str] | None = None, *, provider: str = ""
) -> ProviderError:
    """Classify one failed answer; ``status`` is None for an error event inside a stream."""
    etype, message = error_fields(body)
    words = f"{etype} {message}".lower()
    wait = retry_after(headers)
    kind: ErrorKind
    if status in (401, 403):
        kind = "auth"
    elif status == 402 or any(w in words for w in _BILLING_WORDS):
        kind = "billing"
    elif etype in _TYPE_KINDS:
        kind = _TYPE_KINDS[etype]
    elif status == 429:
        kind = "rate_limit"
    elif status in (408, 504):
        kind = "timeout"
    elif status == 413 or any(w in words for w in _OVERFLOW_WORDS):
        kind = "context_overflow"
    elif (status is not None and (status == 529 or status >= 500)) or "overloaded" in words:
        kind = "overloaded"
    elif status is not None and 400 <= status < 500:
        kind = "bad_request"
    else:
        kind = "unknown"
    where = f"{provider} " if provider else ""
    text = message or (f"HTTP {status}" if status else "error event in the stream")
    details: dict[str, Any] = {"type": etype} if etype else {}
    return ProviderError(kind, f"{where}{text}", retry_after=wait, status=status, details=details)

"""Slack's request signatures: ``X-Slack-Signature: v0=<hex>``, the HMAC-SHA256 of
``v0:<X-Slack-Request-Timestamp>:<raw body>`` under the app's signing secret. A request whose
timestamp is more than five minutes from now is refused, so a captured request cannot be
replayed later."""

from __future__ import annotations

import hashlib
import hmac
import time

MAX_AGE = 300
"""Seconds a request's timestamp may be away from now."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def fresh(timestamp: str, now: float | None = None) -> bool:
    """Whether ``timestamp`` (Unix seconds) is within :data:`MAX_AGE` of ``now``."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs((time.time() if now is None else now) - sent) <= MAX_AGE


def signature_ok(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is Slack's for ``body`` at ``timestamp`` (constant-time compare)."""
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode())

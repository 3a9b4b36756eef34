"""The secret filter every log sink shares: records are masked once, before any sink sees them.

Defaults cover API keys, bearer tokens, Telegram bot tokens, PEM private keys and JSON-ish
``password``/``token``/``apiKey`` fields; the configured gateway token and password are masked
literally; ``logging.redactPatterns`` add to the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

DEFAULT_PATTERNS: tuple[str, ...] = (
    # PEM private keys, whole block (RSA, EC, OPENSSH, plain PKCS#8, ...).
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
    # OpenAI / Anthropic style keys: sk-..., sk-ant-..., sk-proj-...
    r"\bsk-[A-Za-z0-9_\-]{16,}",
    # Authorization: Bearer <token>
    r"(?i)(?<=bearer )[A-Za-z0-9._~+/\-]+=*",
    # Telegram bot tokens: <bot id>:<35 chars>
    r"\b\d{5,}:[A-Za-z0-9_\-]{35}(?![A-Za-z0-9_\-])",
)

# "password": "x", 'token': 'x', apiKey=x, api_key: x -> keep the key, mask the value.
_FIELD_RE = re.compile(
    r"""(?ix)
    (?P<key>["']?(?:password|passwd|token|api[_-]?key|secret|access[_-]?token)["']?\s*[:=]\s*)
    (?P<quote>["']?)
    (?P<value>[^"'\s,}]+)
    """
)
_SECRET_KEYS = re.compile(r"(?i)^(password|passwd|token|api[_-]?key|secret|access[_-]?token|authorization)$")


class Redactor:
    """Masks secrets in strings and in nested field mappings. Disabled when ``enabled`` is false."""

    def __init__(
        self, *, enabled: bool = True, patterns: Iterable[str] = (), literals: Iterable[str | None] = ()
    ) -> None:
        self.enabled = enabled
        sources = [*DEFAULT_PATTERNS, *patterns]
        sources += [re.escape(s) for s in literals if s and len(s) >= 4]
        self._patterns = [re.compile(p) for p in sources]

    @classmethod
    def from_settings(cls, settings: Any) -> Redactor:
        """Defaults, plus ``logging.redactPatterns`` and the gateway's own credentials."""
        auth = settings.gateway.auth
        return cls(
            enabled=settings.logging.redact_sensitive,
            patterns=settings.logging.redact_patterns,
            literals=(auth.token, auth.password),
        )

    def text(self, value: str) -> str:
        if not self.enabled or not value:
            return value
        for pattern in self._patterns:
            value = pattern.sub(MASK, value)
        return _FIELD_RE.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", value)

    def value(self, value: Any, key: str = "") -> Any:
        """Mask a field value: whole values under secret-named keys, substrings elsewhere."""
        if not self.enabled:
            return value
        if key and _SECRET_KEYS.match(key) and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

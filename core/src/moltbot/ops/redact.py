"""Secret scrubbing for anything that leaves the machine (the diagnostics bundle).

Independent of ``logging.redactSensitive``: always on. Three layers: values under secret-named
keys are replaced whole; every secret value known from the config and the environment is
replaced wherever it appears; well-known token shapes (API keys, bearer tokens, bot tokens, PEM
private keys, ``"password": "..."``-style pairs) are masked in free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from moltbot.ops.credentials import SECRET_NAME

MASK = "<redacted>"
_ENV_SECRET = re.compile(r"(?i)(KEY|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIALS?)$")
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/\-]+=*"),
    re.compile(r"\b\d{5,}:[A-Za-z0-9_\-]{30,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
]
_PAIR = re.compile(
    r"""(?ix)(["']?[a-z0-9_\-]*(?:password|passwd|secret|token|api[_-]?key)["']?\s*[:=]\s*["']?)([^"'\s,}&]+)"""
)


def _collect(data: Any, key: str = "") -> Iterable[str]:
    if isinstance(data, Mapping):
        for k, v in data.items():
            yield from _collect(v, str(k))
    elif isinstance(data, list | tuple):
        for v in data:
            yield from _collect(v, key)
    elif isinstance(data, str) and key and SECRET_NAME.search(key):
        yield data


class Scrubber:
    def __init__(self, literals: Iterable[str] = ()) -> None:
        values = {s for s in literals if s and len(s) >= 4 and not s.startswith("${")}
        self.literals = sorted(values, key=len, reverse=True)

    @classmethod
    def from_sources(cls, configs: Iterable[Any], env: Mapping[str, str]) -> Scrubber:
        literals: list[str] = []
        for config in configs:
            literals += _collect(config)
        literals += [v for k, v in env.items() if _ENV_SECRET.search(k)]
        return cls(literals)

    def text(self, text: str) -> str:
        for literal in self.literals:
            text = text.replace(literal, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(MASK, text)
        return _PAIR.sub(lambda m: m[1] + MASK, text)

    def value(self, data: Any, key: str = "") -> Any:
        if isinstance(data, Mapping):
            return {k: self.value(v, str(k)) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.value(v, key) for v in data]
        if isinstance(data, str):
            if key and SECRET_NAME.search(key) and data:
                return MASK
            return self.text(data)
        return data

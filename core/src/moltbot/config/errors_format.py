"""Turn pydantic validation errors into messages that name the key, the value and the fix."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel, ValidationError

_SECRET_SUFFIXES = ("token", "password", "secret", "apikey", "api_key", "privatekey")


def is_secret_key(key: str) -> bool:
    """Whether a config key holds a credential (``botToken``, ``appSecret``, ``apiKey``...):
    its value is never echoed in errors and is redacted by ``config.get``."""
    return key.lower().replace("-", "_").endswith(_SECRET_SUFFIXES)


def dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def describe(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    """One ``(path, message)`` per error, with "did you mean" hints for unknown keys and
    misspelled choices."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = ".".join(p for p in (prefix, dotted(loc)) if p)
        problems.append((path, _message(error, model, loc)))
    return problems


def _message(error: Any, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        known = _keys_at(model, loc[:-1])
        hint = _did_you_mean(str(loc[-1]), known)
        listing = f"; known keys here: {', '.join(sorted(known))}" if known and not hint else ""
        return f"unknown key {loc[-1]!r}{hint}{listing}"
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        hint = _did_you_mean(str(value), choices)
        return f"{value!r} is not one of {', '.join(map(repr, choices))}{hint}"
    if kind == "missing":
        return "required key is missing"
    text = error["msg"]
    if text.startswith("Value error, "):
        text = text[len("Value error, ") :]
    named = [p for p in loc if isinstance(p, str)]
    if named and is_secret_key(named[-1]):
        return f"{text} (the value is not shown: it is a secret)"
    return f"{text} (got {value!r})"


def _did_you_mean(word: str, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The camelCase keys the model accepts at ``loc`` (empty when it cannot tell)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = _inner_model(current)
            if isinstance(part, int):
                continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        current = field.annotation
    current = _inner_model(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None

"""The config file's JSON Schema, plugin sections included, and lookups of one path in it.

Each channel plugin's model brings its own ``$defs``; they are moved to the root under
``<channel>.<name>`` so every ``$ref`` in the combined document resolves.
"""

from __future__ import annotations

import re
from typing import Any

from moltbot.config.model import Settings

_INDEX = re.compile(r"^\d+$")


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite_refs(v, prefix) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = f"#/$defs/{prefix}.{ref.removeprefix('#/$defs/')}"
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def full_schema(plugins: Any) -> dict[str, Any]:
    """The whole config schema: core settings plus every installed channel's section."""
    schema = Settings.model_json_schema(by_alias=True)
    defs = schema.setdefault("$defs", {})
    channels: dict[str, Any] = {}
    for name, spec in sorted(plugins.channels().items()):
        section = _rewrite_refs(spec.config.model_json_schema(by_alias=True), name)
        for key, value in section.pop("$defs", {}).items():
            defs[f"{name}.{key}"] = value
        channels[name] = section
    schema["properties"]["channels"] = {
        "type": "object",
        "properties": channels,
        "additionalProperties": False,
    }
    return schema


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and pick the object-like branch of ``anyOf`` (``X | None`` fields)."""
    while True:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**schema["$defs"][ref.removeprefix("#/$defs/")], **rest}
            continue
        options = node.get("anyOf")
        if isinstance(options, list):
            concrete = [o for o in options if o.get("type") != "null"]
            if len(concrete) == 1:
                node = {**{k: v for k, v in node.items() if k != "anyOf"}, **concrete[0]}
                continue
        return node


def lookup(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The schema of ``path`` (``gateway.auth.mode``, ``channels.telegram.groups.*``,
    ``logging.transports.0.type``), with references resolved; ``None`` when no such key."""
    node = _resolve(schema, schema)
    for key in (k for k in path.split(".") if k):
        properties = node.get("properties", {})
        if key in properties:
            node = properties[key]
        elif _INDEX.match(key) and isinstance(node.get("items"), dict):
            node = node["items"]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
        node = _resolve(schema, node)
    return node

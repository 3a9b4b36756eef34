"""Base classes for config models: camelCase keys on disk, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class StrictModel(BaseModel):
    """A config section: camelCase keys (``dmPolicy``), unknown keys are errors, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


class NoConfig(StrictModel):
    """The config model of a component that takes no settings."""

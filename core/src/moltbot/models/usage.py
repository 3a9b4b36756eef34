"""Token usage and cost records, one per model call, for the session store to persist."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from moltbot.interfaces.provider import Usage
from moltbot.models.config import ModelCostConfig
from moltbot.models.refs import ModelRef

_PER = 1_000_000


@dataclass(frozen=True, kw_only=True)
class UsageRecord:
    """What one call cost; ``cost_usd`` is None when the model has no price in config."""

    provider: str
    model: str
    profile: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    fallback: bool = False
    """True when a fallback model answered instead of the primary."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UsageRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def cost(usage: Usage, price: ModelCostConfig | None) -> float | None:
    """Dollars for ``usage`` at ``price`` (USD per million tokens); None without a price."""
    if price is None:
        return None
    read = price.input if price.cache_read is None else price.cache_read
    write = price.input if price.cache_write is None else price.cache_write
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * read
        + usage.cache_write_tokens * write
    ) / _PER


def record(
    ref: ModelRef,
    usage: Usage,
    price: ModelCostConfig | None,
    *,
    profile: str | None = None,
    fallback: bool = False,
) -> UsageRecord:
    return UsageRecord(
        provider=ref.provider,
        model=ref.model,
        profile=profile,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cost_usd=cost(usage, price),
        fallback=fallback,
    )


@dataclass
class UsageTotals:
    """Running sums over many records (a run, a session, ``/usage``)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    """Calls whose model had no price, so ``cost_usd`` is a lower bound when this is > 0."""

    def add(self, item: UsageRecord) -> None:
        self.calls += 1
        self.input_tokens += item.input_tokens
        self.output_tokens += item.output_tokens
        self.cache_read_tokens += item.cache_read_tokens
        self.cache_write_tokens += item.cache_write_tokens
        if item.cost_usd is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += item.cost_usd

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

"""From ``channels.*`` config to channel objects: one per enabled account of each channel.

Each account is identified by :func:`status_name` (``telegram``, or ``telegram:work`` for a
named account) and keeps its files in its own state directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from moltbot.config.accounts import DEFAULT_ACCOUNT, account_path, account_sections
from moltbot.config.model import ChannelConfig
from moltbot.specs import BuildContext, ChannelSpec

ACCESS_KEYS = frozenset({"enabled", "dmPolicy", "allowFrom", "groupPolicy", "groups", "groupAllowFrom"})
"""Keys the router re-reads per message; changing only these never restarts a channel."""


def status_name(channel: str, account: str) -> str:
    """``telegram`` for the default account, ``telegram:work`` for another."""
    return channel if account == DEFAULT_ACCOUNT else f"{channel}:{account}"


@dataclass(frozen=True)
class Wanted:
    """One account the config asks for: validated config plus the raw section it came from."""

    channel: str
    account: str
    spec: ChannelSpec
    config: ChannelConfig
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return status_name(self.channel, self.account)

    def needs_restart(self, previous: Wanted) -> bool:
        """Whether a running object built from ``previous`` must be rebuilt to apply ``self``."""
        keys = self.raw.keys() | previous.raw.keys()
        return self.spec is not previous.spec or any(
            self.raw.get(k) != previous.raw.get(k) for k in keys - ACCESS_KEYS
        )


@dataclass
class Plan:
    """What the config asks for: enabled accounts by status name, disabled ones, problems."""

    wanted: dict[str, Wanted]
    disabled: list[str]
    problems: list[tuple[str, str]]


def plan(settings: Any, specs: Mapping[str, ChannelSpec]) -> Plan:
    """Validate every account of every configured channel (plus default-enabled built-ins)."""
    sections: dict[str, Any] = {n: {} for n, s in specs.items() if s.default_enabled}
    sections.update(settings.channels)
    result = Plan({}, [], [])
    for name, raw in sorted(sections.items()):
        spec = specs.get(name)
        if spec is None:
            result.problems.append((f"channels.{name}", f"no installed plugin provides channel {name!r}"))
            continue
        accounts, problems = account_sections(raw)
        result.problems += [(f"channels.{name}.{where}", message) for where, message in problems]
        multi = isinstance(raw, dict) and bool(raw.get("accounts"))
        for account, merged in accounts.items():
            where = account_path(name, account, multi=multi)
            try:
                config = spec.config.model_validate(merged)
            except ValidationError as exc:
                result.problems.append((where, str(exc).splitlines()[-1].strip()))
                continue
            if not isinstance(config, ChannelConfig):
                result.problems.append((where, "the plugin's config model must extend ChannelConfig"))
                continue
            if not config.enabled:
                result.disabled.append(status_name(name, account))
                continue
            wanted = Wanted(channel=name, account=account, spec=spec, config=config, raw=merged)
            result.wanted[wanted.name] = wanted
    return result


def state_dir(root: Path, channel: str, account: str) -> Path:
    """``<state>/channels/<name>`` for the default account, ``.../<name>/accounts/<id>`` else."""
    base = root / "channels" / channel
    return base if account == DEFAULT_ACCOUNT else base / "accounts" / account


def build(wanted: Wanted, root: Path, settings: Any, emit: Callable[[str, dict[str, Any]], None]) -> Any:
    """The channel object for ``wanted`` (its plugin's factory with a per-account context)."""
    ctx = BuildContext(
        name=wanted.channel,
        state_dir=state_dir(root, wanted.channel, wanted.account),
        settings=settings,
        account=wanted.account,
        emit=emit,
    )
    return wanted.spec.factory(wanted.config, ctx)

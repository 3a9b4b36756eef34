"""Who may talk to the agent: DM policy (pairing/allowlist/open/disabled) and group policy.

Decisions are pure functions of the message, the channel's config and the approved senders,
so they are easy to test and the router stays small. Order for groups follows OpenClaw:
group policy, then the group allowlist, then the sender allowlist, then the mention gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from moltbot.config.model import ChannelConfig
from moltbot.interfaces.channel import InboundMessage

Verdict = Literal["allow", "pair", "drop"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str


def _listed(sender: str, entries: list[str] | frozenset[str]) -> bool:
    return sender in entries or sender.lstrip("+") in {e.lstrip("+") for e in entries}


def decide(message: InboundMessage, config: ChannelConfig, approved: frozenset[str]) -> Decision:
    """``allow`` (route to the agent), ``pair`` (reply with a pairing code) or ``drop``."""
    if message.chat_type == "group":
        return _decide_group(message, config)
    policy = config.dm_policy
    if policy == "disabled":
        return Decision("drop", "direct messages are disabled on this channel")
    if policy == "open":
        # ``open`` needs "*" in allowFrom; without it, it behaves as an allowlist of the entries.
        if "*" in config.allow_from or _listed(message.sender, config.allow_from):
            return Decision("allow", "open policy")
        return Decision("drop", "dmPolicy is open but allowFrom has no '*' and not this sender")
    if _listed(message.sender, config.allow_from) or _listed(message.sender, approved):
        return Decision("allow", "sender is allowed")
    if policy == "allowlist":
        return Decision("drop", "sender is not in allowFrom")
    return Decision("pair", "unknown sender")


def _decide_group(message: InboundMessage, config: ChannelConfig) -> Decision:
    if config.group_policy == "disabled":
        return Decision("drop", "groups are disabled on this channel")
    group = config.groups.get(message.chat_id) or config.groups.get("*")
    if group is None and config.group_policy == "allowlist":
        return Decision("drop", "group is not in the channel's groups allowlist")
    if config.group_allow_from and not _listed(message.sender, config.group_allow_from):
        return Decision("drop", "sender is not in groupAllowFrom")
    require_mention = True if group is None else group.require_mention
    if require_mention and not message.mentions_bot:
        return Decision("drop", "the bot was not mentioned or replied to")
    return Decision("allow", "group message addressed to the bot")

"""DM and group policies (security test T23)."""

from datetime import UTC, datetime
from typing import Any

from moltbot.channels.access import decide
from moltbot.config.model import ChannelConfig
from moltbot.interfaces.channel import InboundMessage


def msg(sender: str = "u1", *, group: str | None = None, mentioned: bool = False) -> InboundMessage:
    return InboundMessage(
        channel="t",
        sender=sender,
        chat_type="group" if group else "dm",
        chat_id=group or sender,
        text="hi",
        message_id="1",
        timestamp=datetime.now(UTC),
        mentions_bot=mentioned,
    )


def cfg(**data: Any) -> ChannelConfig:
    return ChannelConfig.model_validate(data)


def test_pairing_is_the_default_for_unknown_senders() -> None:
    assert decide(msg(), cfg(), frozenset()).verdict == "pair"
    assert decide(msg(), cfg(), frozenset({"u1"})).verdict == "allow"
    assert decide(msg("+15551234"), cfg(allowFrom=["15551234"]), frozenset()).verdict == "allow"


def test_allowlist_open_disabled() -> None:
    assert decide(msg(), cfg(dmPolicy="allowlist"), frozenset()).verdict == "drop"
    assert decide(msg(), cfg(dmPolicy="allowlist"), frozenset({"u1"})).verdict == "allow"
    assert decide(msg(), cfg(dmPolicy="open", allowFrom=["*"]), frozenset()).verdict == "allow"
    # open without "*" admits only its entries, and approvals do not widen it
    assert decide(msg(), cfg(dmPolicy="open"), frozenset({"u1"})).verdict == "drop"
    assert decide(msg(), cfg(dmPolicy="disabled", allowFrom=["u1"]), frozenset()).verdict == "drop"


def test_groups_need_the_allowlist_and_a_mention() -> None:
    assert decide(msg(group="g1", mentioned=True), cfg(), frozenset()).verdict == "drop"
    listed = cfg(groups={"g1": {}})
    assert decide(msg(group="g1"), listed, frozenset()).verdict == "drop"
    assert decide(msg(group="g1", mentioned=True), listed, frozenset()).verdict == "allow"
    quiet = cfg(groups={"*": {"requireMention": False}})
    assert decide(msg(group="g9"), quiet, frozenset()).verdict == "allow"
    assert decide(msg(group="g9", mentioned=True), cfg(groupPolicy="disabled"), frozenset()).verdict == "drop"


def test_group_sender_allowlist_ignores_dm_approvals() -> None:
    config = cfg(groups={"g1": {}}, groupAllowFrom=["owner"])
    assert decide(msg("u1", group="g1", mentioned=True), config, frozenset({"u1"})).verdict == "drop"
    assert decide(msg("owner", group="g1", mentioned=True), config, frozenset()).verdict == "allow"

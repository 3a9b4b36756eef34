"""The chat-channel interface: one object per connected messaging account."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

import trio


@dataclass(frozen=True, kw_only=True)
class ChannelCapabilities:
    """What a channel can do; the runtime adapts replies to it (chunking, typing, media)."""

    text_limit: int = 4000
    formatting: Literal["plain", "markdown", "html"] = "plain"
    media_kinds: frozenset[str] = frozenset()
    reactions: bool = False
    typing: bool = False
    threads: bool = False
    edits: bool = False
    groups: bool = False
    live_events: bool = False
    """The channel's clients watch the run's own gateway events (WebChat), so the finished
    reply is not sent to them a second time."""


@dataclass(frozen=True, kw_only=True)
class Media:
    """An attachment: a URL or channel-specific file id, with a MIME type when known."""

    kind: Literal["image", "audio", "video", "document", "sticker"]
    ref: str
    mime_type: str | None = None
    caption: str | None = None


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    """A message received from a channel, normalized so routing never sees wire formats."""

    channel: str
    account: str = "default"
    sender: str
    """Stable sender id on the channel (phone number, user id)."""
    chat_type: Literal["dm", "group"] = "dm"
    chat_id: str
    """Where a reply goes: the DM peer or the group id."""
    text: str = ""
    message_id: str
    timestamp: datetime
    sender_name: str | None = None
    media: tuple[Media, ...] = ()
    mentions: tuple[str, ...] = ()
    mentions_bot: bool = False
    reply_to: str | None = None
    thread_id: str | None = None
    session_key: str | None = None
    """Set by channels whose clients address a session directly (WebChat's ``sessionKey``);
    otherwise routing derives the session from channel, account and sender."""
    run_id: str | None = None
    """A run id the client chose (WebChat's ``idempotencyKey``), so it can match the run's
    events before its request is answered; otherwise the agent picks one."""


@dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    """A message to deliver; ``idempotency_key`` lets a channel drop a repeated send."""

    channel: str
    account: str = "default"
    target: str
    text: str = ""
    media: tuple[Media, ...] = ()
    reply_to: str | None = None
    thread_id: str | None = None
    idempotency_key: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Where a turn came from and where its reply goes back to."""

    channel: str
    account: str = "default"
    chat_id: str
    chat_type: Literal["dm", "group"] = "dm"
    sender: str
    thread_id: str | None = None
    message_id: str | None = None

    @classmethod
    def of(cls, message: InboundMessage) -> Origin:
        return cls(
            channel=message.channel,
            account=message.account,
            chat_id=message.chat_id,
            chat_type=message.chat_type,
            sender=message.sender,
            thread_id=message.thread_id,
            message_id=message.message_id,
        )


class ChannelFatalError(Exception):
    """Raised by ``run`` when retrying cannot help (logged out, session taken over elsewhere).

    The supervisor stops restarting the channel and tells the operator ``reason``.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ChatChannel(ABC):
    """A connection to one account on one messaging service.

    Resource handling:
        ``run`` owns every connection it opens and closes them when cancelled. ``send`` may be
        called concurrently with ``run`` and with itself.

    Error handling:
        ``run`` raises on failure; the runtime's supervisor restarts it with backoff.
        Raise :class:`ChannelFatalError` when a restart would be pointless. ``send`` raises on
        delivery failure; it never swallows errors.
    """

    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities()

    @abstractmethod
    async def run(
        self,
        inbox: trio.MemorySendChannel[InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Connect, call ``task_status.started()`` once ready, then forward inbound messages to
        ``inbox`` until cancelled."""

    @abstractmethod
    async def send(self, message: OutboundMessage) -> str:
        """Deliver ``message`` and return the channel's id for the sent message."""

    async def set_typing(self, target: str) -> None:  # noqa: B027 - optional capability
        """Show a typing indicator in ``target`` if the channel supports it."""

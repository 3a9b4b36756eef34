"""``app.services["channels"]``: runs every configured channel and routes its messages.

Inbound: each channel runs under :func:`supervise` and feeds one shared inbox. The router drops
redelivered message ids (persisted :class:`DedupeStore`), applies access control, answers unknown
DM senders with a pairing code, and hands allowed messages to ``app.services["agent"].submit``
with the session key, the :class:`Origin` and the idempotency key ``<channel>:<message id>``;
a typing indicator runs until the reply is delivered (or the run ends, or a cap).
Outbound: :meth:`deliver` (called by the agent) and :meth:`send_text` (the ``send`` RPC) split
text at the channel's limit and send each chunk once under an idempotency key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger
from pydantic import ValidationError

from moltbot.channels.access import decide
from moltbot.channels.chunking import split_text
from moltbot.channels.dedupe import DedupeStore
from moltbot.channels.pairing import PairingStore
from moltbot.channels.supervisor import ChannelStatus, RestartPolicy, supervise
from moltbot.config.model import ChannelConfig
from moltbot.errors import ConfigError
from moltbot.interfaces.channel import (
    ChannelFatalError,
    ChatChannel,
    InboundMessage,
    Origin,
    OutboundMessage,
)
from moltbot.interfaces.service import Service
from moltbot.sessions.keys import derive_key
from moltbot.specs import BuildContext

if TYPE_CHECKING:
    from moltbot.app import App

SEND_ATTEMPTS = 3
"""Outbound chunk attempts; a retry carries the same idempotency key (no duplicate sends)."""


def credentials_dir(state_dir: Path) -> Path:
    """Where pairing and allow stores live (shared with the ``moltbot pairing`` CLI)."""
    return state_dir / "credentials"


def pairing_text(channel: str, sender: str, code: str) -> str:
    return (
        "moltbot: I don't know you yet.\n\n"
        f"Your {channel} id: {sender}\n"
        f"Pairing code: {code}\n\n"
        "Ask the owner of this bot to approve you with:\n"
        f"moltbot pairing approve {channel} {code}\n"
        "(the code is valid for one hour)"
    )


@dataclass
class Running:
    """One configured channel: its object, config, stores and supervision status."""

    channel: ChatChannel
    config: ChannelConfig
    pairing: PairingStore
    status: ChannelStatus


@dataclass
class _Typing:
    done: trio.Event = field(default_factory=trio.Event)


class ChannelsService(Service):
    """The channel runtime; see the module docstring."""

    def __init__(
        self,
        app: App,
        *,
        policy: RestartPolicy | None = None,
        typing_interval: float = 5.0,
        typing_cap: float = 120.0,
        send_retry_delay: float = 1.0,
    ) -> None:
        self.app = app
        self.policy = policy or RestartPolicy()
        self.typing_interval = typing_interval
        self.typing_cap = typing_cap
        self.send_retry_delay = send_retry_delay
        self.channels: dict[str, Running] = {}
        self.disabled: list[str] = []
        self.dedupe = DedupeStore(app.paths.state_dir / "channels" / "seen.log")
        self._typing: dict[tuple[str, str, str], _Typing] = {}
        self._nursery: trio.Nursery | None = None
        self._settings = app.settings
        self._build()

    # ------------------------------------------------------------ setup

    def _build(self) -> None:
        specs = self.app.plugins.channels()
        settings = self.app.settings
        problems: list[tuple[str, str]] = []
        for name, raw in sorted(settings.channels.items()):
            spec = specs.get(name)
            if spec is None:
                problems.append((f"channels.{name}", f"no installed plugin provides channel {name!r}"))
                continue
            try:
                config = spec.config.model_validate(raw or {})
            except ValidationError as exc:
                problems.append((f"channels.{name}", str(exc).splitlines()[-1]))
                continue
            if not isinstance(config, ChannelConfig):
                problems.append((f"channels.{name}", "the plugin's config model must extend ChannelConfig"))
                continue
            if not config.enabled:
                self.disabled.append(name)
                continue
            ctx = BuildContext(
                name=name, state_dir=self.app.paths.state_dir / "channels" / name, settings=settings
            )
            self.channels[name] = Running(
                channel=spec.factory(config, ctx),
                config=config,
                pairing=PairingStore(credentials_dir(self.app.paths.state_dir), name),
                status=ChannelStatus(name),
            )
        if problems:
            raise ConfigError(problems, source=str(self.app.paths.config_path))

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        send, recv = trio.open_memory_channel[InboundMessage](0)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            async with send:
                for running in self.channels.values():
                    await nursery.start(supervise, running.channel, send.clone(), running.status, self.policy)
            nursery.start_soon(self._route, recv)
            task_status.started()

    def status(self) -> dict[str, Any]:
        channels = {name: r.status.to_json() for name, r in self.channels.items()}
        for name in self.disabled:
            channels[name] = {"name": name, "state": "disabled", "ok": True}
        channels["webchat"] = {"name": "webchat", "state": "running", "ok": True, "builtin": True}
        degraded = sorted(n for n, s in channels.items() if s["state"] in ("degraded", "stopped"))
        return {"ok": not degraded, "channels": channels, "degraded": degraded}

    def _follow_reloads(self) -> None:
        """Take access settings (dmPolicy, allowFrom, groups...) from a hot-reloaded config;
        credentials and other plugin keys only apply when the channel is rebuilt at restart."""
        settings = self.app.settings
        if settings is self._settings:
            return
        self._settings = settings
        specs = self.app.plugins.channels()
        for name, running in self.channels.items():
            raw = settings.channels.get(name)
            if raw is None or name not in specs:
                continue
            try:
                running.config = specs[name].config.model_validate(raw)
            except ValidationError as exc:
                logger.error(
                    "channel {}: reloaded config is invalid, keeping the previous one: {}", name, exc
                )

    def get(self, name: str) -> Running:
        try:
            return self.channels[name]
        except KeyError:
            raise LookupError(f"channel {name!r} is not configured or not enabled") from None

    # ------------------------------------------------------------ inbound

    async def _route(self, recv: trio.MemoryReceiveChannel[InboundMessage]) -> None:
        async with recv:
            async for message in recv:
                try:
                    await self.handle(message)
                except Exception:
                    logger.exception(
                        "channel {}: could not route message {}", message.channel, message.message_id
                    )

    async def handle(self, message: InboundMessage) -> None:
        """Route one inbound message (dedupe, access control, pairing or the agent)."""
        self._follow_reloads()
        running = self.get(message.channel)
        if not self.dedupe.remember(f"in:{message.channel}:{message.account}:{message.message_id}"):
            logger.debug("channel {}: dropping redelivered message {}", message.channel, message.message_id)
            return
        self.app.metrics.inc("channels.inbound", channel=message.channel)
        decision = decide(message, running.config, running.pairing.allowed())
        if decision.verdict == "drop":
            logger.info(
                "channel {}: ignored a message from {}: {}", message.channel, message.sender, decision.reason
            )
            return
        if decision.verdict == "pair":
            outcome = running.pairing.request(message.sender, message.sender_name)
            if not outcome.created:
                logger.info(
                    "channel {}: unknown sender {} ({})",
                    message.channel,
                    message.sender,
                    "pairing code already sent" if outcome.code else "too many pending pairing requests",
                )
                return
            logger.info("channel {}: pairing code issued to {}", message.channel, message.sender)
            reply = OutboundMessage(
                channel=message.channel,
                account=message.account,
                target=message.chat_id,
                text=pairing_text(message.channel, message.sender, outcome.code),
                idempotency_key=f"pair:{message.channel}:{message.message_id}",
            )
            self._spawn(self._send_logged, running.channel, reply)
            return
        await self._submit(running, message)

    async def _submit(self, running: Running, message: InboundMessage) -> None:
        agent = self.app.services.get("agent")
        if agent is None:
            logger.error(
                "channel {}: no agent service is running; message {} dropped",
                message.channel,
                message.message_id,
            )
            return
        origin = Origin.of(message)
        run_id = await agent.submit(
            session_key=derive_key(message, self.app.settings.session),
            text=message_text(message),
            origin=origin,
            idempotency_key=f"{message.channel}:{message.message_id}",
        )
        if running.channel.capabilities.typing:
            self._spawn(self._keep_typing, running.channel, origin, run_id)

    # ------------------------------------------------------------ typing

    def _spawn(self, fn: Any, *args: Any) -> None:
        if self._nursery is None:
            raise RuntimeError("the channels service is not running")
        self._nursery.start_soon(fn, *args)

    async def _keep_typing(self, channel: ChatChannel, origin: Origin, run_id: str) -> None:
        """``set_typing`` every ``typing_interval`` until delivery, the run's end, or the cap."""
        key = (origin.channel, origin.account, origin.chat_id)
        typing = self._typing.setdefault(key, _Typing())
        agent = self.app.services.get("agent")

        async def run_ended() -> None:
            try:
                await agent.wait(run_id)
            except Exception as exc:
                logger.debug("typing for {}: waiting for run {} failed: {}", origin.chat_id, run_id, exc)
            typing.done.set()

        with trio.move_on_after(self.typing_cap):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(run_ended)
                while not typing.done.is_set():
                    try:
                        await channel.set_typing(origin.chat_id)
                    except Exception as exc:
                        logger.debug("channel {}: typing indicator failed: {}", origin.channel, exc)
                    with trio.move_on_after(self.typing_interval):
                        await typing.done.wait()
                nursery.cancel_scope.cancel()
        if self._typing.get(key) is typing:
            del self._typing[key]

    def _stop_typing(self, origin: Origin) -> None:
        typing = self._typing.pop((origin.channel, origin.account, origin.chat_id), None)
        if typing is not None:
            typing.done.set()

    # ------------------------------------------------------------ outbound

    async def deliver(self, origin: Origin, text: str) -> None:
        """Send the agent's reply ``text`` back where ``origin`` came from (threaded, chunked)."""
        running = self.get(origin.channel)
        self._stop_typing(origin)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        base = f"{origin.channel}:{origin.message_id or origin.chat_id}:{digest}"
        await self._send_chunks(
            running.channel,
            OutboundMessage(
                channel=origin.channel,
                account=origin.account,
                target=origin.chat_id,
                text=text,
                reply_to=origin.message_id,
                thread_id=origin.thread_id,
            ),
            base,
        )

    async def send_text(
        self, channel: str, target: str, text: str, *, idempotency_key: str, account: str = "default"
    ) -> list[str]:
        """Send ``text`` to ``target`` on ``channel`` (the ``send`` RPC and ``moltbot message send``)."""
        running = self.get(channel)
        message = OutboundMessage(channel=channel, account=account, target=target, text=text)
        return await self._send_chunks(running.channel, message, f"{channel}:send:{idempotency_key}")

    async def _send_chunks(self, channel: ChatChannel, message: OutboundMessage, base: str) -> list[str]:
        ids: list[str] = []
        for i, chunk in enumerate(split_text(message.text, channel.capabilities.text_limit)):
            key = f"{base}:{i}"
            if f"out:{key}" in self.dedupe:
                continue
            part = OutboundMessage(
                channel=message.channel,
                account=message.account,
                target=message.target,
                text=chunk,
                reply_to=message.reply_to if i == 0 else None,
                thread_id=message.thread_id,
                idempotency_key=key,
            )
            ids.append(await self._send_once(channel, part))
            self.dedupe.remember(f"out:{key}")
            self.app.metrics.inc("channels.outbound", channel=message.channel)
        return ids

    async def _send_once(self, channel: ChatChannel, message: OutboundMessage) -> str:
        """``channel.send`` with up to :data:`SEND_ATTEMPTS` tries for transient failures."""
        for attempt in range(1, SEND_ATTEMPTS):
            try:
                return await channel.send(message)
            except ChannelFatalError:
                raise
            except Exception as exc:
                logger.warning(
                    "channel {}: send failed ({}: {}); retry {} with the same idempotency key",
                    message.channel,
                    type(exc).__name__,
                    exc,
                    attempt,
                )
                await trio.sleep(self.send_retry_delay * attempt)
        return await channel.send(message)

    async def _send_logged(self, channel: ChatChannel, message: OutboundMessage) -> None:
        try:
            await self._send_once(channel, message)
        except Exception as exc:
            logger.error("channel {}: could not send to {}: {}", message.channel, message.target, exc)


def message_text(message: InboundMessage) -> str:
    """What the agent reads: the text plus one line per attachment."""
    lines = [message.text] if message.text else []
    for media in message.media:
        caption = f" {media.caption}" if media.caption and media.caption != message.text else ""
        lines.append(f"[{media.kind} {media.ref}]{caption}")
    return "\n".join(lines)

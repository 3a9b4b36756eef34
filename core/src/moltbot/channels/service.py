"""``app.services["channels"]``: runs every configured channel account and routes its messages.

Inbound: each account runs under :func:`supervise` in its own cancel scope (so a config reload
can start, stop or restart one account alone) and feeds one shared inbox. The router drops
redelivered message ids (persisted :class:`DedupeStore`), applies access control, answers unknown
DM senders with a pairing code, and hands allowed messages to ``app.services["agent"].submit``
with the session key, the :class:`Origin` and the idempotency key ``<channel>[:<account>]:<message
id>`` (the account only when it is not ``default``: two bots may see the same message id);
a typing indicator runs until the reply is delivered (or the run ends, or a cap).
Outbound: :meth:`deliver` (called by the agent) and :meth:`send_text` (the ``send`` RPC) split
text at the channel's limit and send each chunk once under an idempotency key.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio
from loguru import logger

from moltbot.channels.access import decide
from moltbot.channels.build import Wanted, build, plan, status_name
from moltbot.channels.chunking import split_text
from moltbot.channels.dedupe import DedupeStore
from moltbot.channels.journal import InboundJournal
from moltbot.channels.pairing import PairingStore
from moltbot.channels.supervisor import ChannelStatus, RestartPolicy, supervise
from moltbot.channels.typing import TypingIndicators
from moltbot.config.accounts import DEFAULT_ACCOUNT
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
    """One running account: its channel object, the config it was built from, its pairing
    store and supervision status, and the cancel scope that stops it."""

    wanted: Wanted
    channel: ChatChannel
    pairing: PairingStore
    status: ChannelStatus
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    ended: trio.Event = field(default_factory=trio.Event)

    @property
    def config(self) -> ChannelConfig:
        return self.wanted.config


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
        self.typing = TypingIndicators(interval=typing_interval, cap=typing_cap)
        self.send_retry_delay = send_retry_delay
        self.dedupe = DedupeStore(app.paths.state_dir / "channels" / "seen.log")
        self.journal = InboundJournal(app.paths.state_dir / "channels" / "journal.log")
        self._nursery: trio.Nursery | None = None
        self._inbox: trio.MemorySendChannel[InboundMessage] | None = None
        self._settings = app.settings
        self._stopping: dict[str, trio.Event] = {}
        """``ended`` of accounts stopped by a reload, until one of the same name starts again."""
        wanted = plan(app.settings, app.plugins.channels())
        if wanted.problems:
            raise ConfigError(wanted.problems, source=str(app.paths.config_path))
        self.disabled = wanted.disabled
        self.channels: dict[str, Running] = {n: self._running(w) for n, w in wanted.wanted.items()}
        """By status name: ``telegram``, ``telegram:work`` (see :func:`status_name`)."""

    # ------------------------------------------------------------ lifecycle

    def _emit(self, event: str, payload: dict[str, Any]) -> None:
        gateway = self.app.services.get("gateway")
        if gateway is not None:
            gateway.broadcast(event, payload, scope="operator.read")

    def _running(self, wanted: Wanted) -> Running:
        return Running(
            wanted=wanted,
            channel=build(wanted, self.app.paths.state_dir, self.app.settings, self._emit),
            pairing=PairingStore(credentials_dir(self.app.paths.state_dir), wanted.channel),
            status=ChannelStatus(wanted.name),
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        send, recv = trio.open_memory_channel[InboundMessage](0)
        async with send, trio.open_nursery() as nursery:
            self._nursery, self._inbox = nursery, send
            try:
                unfinished = self.journal.pending()  # before new messages join the journal
                for running in self.channels.values():
                    self._start(running)
                nursery.start_soon(self._route, recv)
                nursery.start_soon(self._replay, unfinished)
                task_status.started()
                await trio.sleep_forever()
            finally:
                self._nursery = self._inbox = None

    def _start(self, running: Running, after: trio.Event | None = None) -> None:
        """Supervise ``running`` in its own cancel scope (once ``after`` is set: the previous
        object of a restarted account must release its webhook routes and files first)."""
        if self._nursery is None or self._inbox is None:
            return
        inbox = self._inbox.clone()

        async def supervised() -> None:
            try:
                with running.scope:
                    if after is not None:
                        await after.wait()
                    await supervise(running.channel, inbox, running.status, self.policy)
            finally:
                running.ended.set()

        self._nursery.start_soon(supervised)

    def apply_settings(self, settings: Any) -> None:
        """Apply a hot-reloaded config: access keys take effect with the next message; an
        account that was added, removed, enabled, disabled or had other keys changed is
        started, stopped or restarted. Other accounts keep running untouched."""
        if settings is self._settings:
            return
        self._settings = settings
        wanted = plan(settings, self.app.plugins.channels())
        if wanted.problems:
            for where, problem in wanted.problems:
                logger.error("channels: reloaded config ignored: {}: {}", where, problem)
            return
        self.disabled = wanted.disabled
        for name in [n for n in self.channels if n not in wanted.wanted]:
            stopped = self.channels.pop(name)
            stopped.scope.cancel()
            self._stopping[name] = stopped.ended
            logger.info("channel {} stopped (removed or disabled in the config)", name)
        for name, want in wanted.wanted.items():
            current = self.channels.get(name)
            if current is not None and not want.needs_restart(current.wanted):
                current.wanted = want
                continue
            try:
                fresh = self._running(want)
            except Exception:
                logger.exception("channel {}: could not be built from the reloaded config", name)
                continue
            self.channels[name] = fresh
            if current is not None:
                current.scope.cancel()
            previous = current.ended if current is not None else self._stopping.pop(name, None)
            self._start(fresh, after=previous)
            logger.info("channel {} {} with the reloaded config", name, "restarts" if current else "starts")

    def status(self) -> dict[str, Any]:
        channels = {
            name: {**r.status.to_json(), "channel": r.wanted.channel, "account": r.wanted.account}
            for name, r in self.channels.items()
        }
        for name in self.disabled:
            channels[name] = {"name": name, "state": "disabled", "ok": True}
        degraded = sorted(n for n, s in channels.items() if s["state"] in ("degraded", "stopped"))
        return {"ok": not degraded, "channels": channels, "degraded": degraded}

    def get(self, channel: str, account: str = DEFAULT_ACCOUNT) -> Running:
        name = status_name(channel, account)
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
        running = self.get(message.channel, message.account)
        if not self.dedupe.remember(inbound_key(message)):
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
                idempotency_key=f"pair:{status_name(message.channel, message.account)}:{message.message_id}",
            )
            self._spawn(self._send_logged, running.channel, reply)
            return
        await self._submit(running, message)

    async def _submit(self, running: Running, message: InboundMessage) -> None:
        """Journal ``message``, hand it to the agent, and forget it once its run has ended."""
        key = inbound_key(message)
        self.journal.add(key, message)
        agent = self.app.services.get("agent")
        if agent is None:
            logger.error(
                "channel {}: no agent service is running; message {} waits in the journal",
                message.channel,
                message.message_id,
            )
            return
        origin = Origin.of(message)
        try:
            run_id = await agent.submit(
                session_key=message.session_key or derive_key(message, self.app.settings.session),
                text=message_text(message),
                origin=origin,
                idempotency_key=f"{status_name(message.channel, message.account)}:{message.message_id}",
                run_id=message.run_id,
            )
        except ValueError:
            self.journal.done(key)  # refused for good (a bad session key): never replay it
            raise
        self._spawn(self._forget_when_done, agent, run_id, key)
        if running.channel.capabilities.typing:
            self._spawn(self.typing.keep_typing, running.channel, origin, agent, run_id)

    async def _forget_when_done(self, agent: Any, run_id: str, key: str) -> None:
        with contextlib.suppress(KeyError):  # unknown to the agent: the run ended long ago
            await agent.wait(run_id)
        self.journal.done(key)

    async def _replay(self, unfinished: list[tuple[str, InboundMessage]]) -> None:
        """Submit again what was accepted before a crash or kill but never finished."""
        for key, message in unfinished:
            try:
                running = self.get(message.channel, message.account)
            except LookupError:
                logger.warning("channels: journaled message {} is for a channel that is gone", key)
                self.journal.done(key)
                continue
            logger.info("channel {}: resubmitting unfinished message {}", message.channel, message.message_id)
            try:
                await self._submit(running, message)
            except Exception:
                logger.exception("channel {}: could not resubmit {}", message.channel, key)

    def _spawn(self, fn: Any, *args: Any) -> None:
        if self._nursery is None:
            raise RuntimeError("the channels service is not running")
        self._nursery.start_soon(fn, *args)

    # ------------------------------------------------------------ outbound

    async def deliver(self, origin: Origin, text: str) -> None:
        """Send the agent's reply ``text`` back where ``origin`` came from (threaded, chunked).

        Nothing is sent to a channel whose clients watch the run's events (WebChat)."""
        running = self.get(origin.channel, origin.account)
        self.typing.stop(origin)
        if running.channel.capabilities.live_events:
            return
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        scope = status_name(origin.channel, origin.account)
        base = f"{scope}:{origin.message_id or origin.chat_id}:{digest}"
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
        running = self.get(channel, account)
        message = OutboundMessage(channel=channel, account=account, target=target, text=text)
        base = f"{status_name(channel, account)}:send:{idempotency_key}"
        return await self._send_chunks(running.channel, message, base)

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


def inbound_key(message: InboundMessage) -> str:
    """The key a message is deduplicated and journaled under."""
    return f"in:{message.channel}:{message.account}:{message.message_id}"


def message_text(message: InboundMessage) -> str:
    """What the agent reads: the text plus one line per attachment."""
    lines = [message.text] if message.text else []
    for media in message.media:
        caption = f" {media.caption}" if media.caption and media.caption != message.text else ""
        lines.append(f"[{media.kind} {media.ref}]{caption}")
    return "\n".join(lines)

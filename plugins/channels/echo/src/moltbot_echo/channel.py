"""The echo channel: inbound messages are injected in-process, outbound ones kept in a list."""

from __future__ import annotations

from datetime import UTC, datetime

import trio

import moltbot


class EchoConfig(moltbot.ChannelConfig):
    prefix: str = ""
    """Prepended to every text the channel sends."""


class EchoChannel(moltbot.ChatChannel):
    """A channel whose "remote side" is this process."""

    capabilities = moltbot.ChannelCapabilities(text_limit=4000, typing=True)

    def __init__(self, config: EchoConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.prefix = config.prefix
        self.outbox: list[moltbot.OutboundMessage] = []
        self._pending_send, self._pending_recv = trio.open_memory_channel[moltbot.InboundMessage](64)
        self._count = 0

    async def inject(self, text: str, sender: str = "echo-user") -> None:
        """Deliver ``text`` as if ``sender`` had written it in a direct chat."""
        self._count += 1
        await self._pending_send.send(
            moltbot.InboundMessage(
                channel=self.name,
                sender=sender,
                chat_id=sender,
                text=text,
                message_id=f"echo-{self._count}",
                timestamp=datetime.now(UTC),
            )
        )

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async for message in self._pending_recv:
            await inbox.send(message)

    async def send(self, message: moltbot.OutboundMessage) -> str:
        self.outbox.append(
            moltbot.OutboundMessage(
                channel=message.channel,
                account=message.account,
                target=message.target,
                text=self.prefix + message.text,
                reply_to=message.reply_to,
                idempotency_key=message.idempotency_key,
            )
        )
        return f"echo-out-{len(self.outbox)}"

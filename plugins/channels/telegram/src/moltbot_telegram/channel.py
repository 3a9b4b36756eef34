"""The Telegram channel: ``getUpdates`` long polling in, ``sendMessage`` & co. out.

The update offset is persisted (``<state>/channels/telegram/offset.json``, atomic writes)
after each update was handed to the inbox, so a restart neither loses nor repeats updates;
the channels service's dedupe catches the one update that may be in flight during a crash.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import httpx
import trio

import moltbot
from moltbot.config.store import atomic_write
from moltbot_telegram.api import BotApi
from moltbot_telegram.config import TelegramConfig
from moltbot_telegram.normalize import normalize, reply_target
from moltbot_telegram.render import to_html

ALLOWED_UPDATES = ["message"]


class OffsetStore:
    """The next ``getUpdates`` offset, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        try:
            value = json.loads(self.path.read_text()).get("offset")
        except (FileNotFoundError, ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None

    def save(self, offset: int) -> None:
        atomic_write(self.path, json.dumps({"offset": offset}).encode(), keep_backup=False)


def _chat_id(target: str) -> int | str:
    return int(target) if target.lstrip("-").isdigit() else target


class TelegramChannel(moltbot.ChatChannel):
    """One bot account."""

    capabilities = moltbot.ChannelCapabilities(
        text_limit=4096,
        formatting="html",
        media_kinds=frozenset({"image", "document"}),
        typing=True,
        threads=True,
        groups=True,
    )

    def __init__(self, config: TelegramConfig, ctx: moltbot.BuildContext) -> None:
        self.name = ctx.name
        self.config = config
        self.offsets = OffsetStore(ctx.state_dir / "offset.json")
        self.bot_id = 0
        self.bot_username: str | None = None
        self._sent: OrderedDict[str, str] = OrderedDict()

    def _api(self, http: httpx.AsyncClient) -> BotApi:
        return BotApi(
            http, self.config.api_base_url, self.config.bot_token, timeout=self.config.request_timeout / 1000
        )

    async def run(
        self,
        inbox: trio.MemorySendChannel[moltbot.InboundMessage],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        poll = self.config.poll_timeout // 1000
        async with httpx.AsyncClient() as http:
            api = self._api(http)
            me = await api.call("getMe")
            self.bot_id, self.bot_username = int(me["id"]), me.get("username")
            task_status.started()
            offset = self.offsets.load()
            while True:
                params: dict[str, Any] = {"timeout": poll, "allowed_updates": ALLOWED_UPDATES}
                if offset is not None:
                    params["offset"] = offset
                updates = await api.call("getUpdates", params, timeout=poll + api.timeout)
                for update in updates:
                    message = normalize(
                        update, channel=self.name, bot_id=self.bot_id, bot_username=self.bot_username
                    )
                    if message is not None:
                        await inbox.send(message)
                    offset = int(update["update_id"]) + 1
                    self.offsets.save(offset)

    async def send(self, message: moltbot.OutboundMessage) -> str:
        key = message.idempotency_key
        if key is not None and key in self._sent:
            return self._sent[key]
        base: dict[str, Any] = {"chat_id": _chat_id(message.target)}
        if message.thread_id:
            base["message_thread_id"] = int(message.thread_id)
        reply = reply_target(message.reply_to)
        if reply is not None:
            base["reply_parameters"] = {"message_id": reply, "allow_sending_without_reply": True}
        ids: list[str] = []
        async with httpx.AsyncClient() as http:
            api = self._api(http)
            for media in message.media:
                method, field = (
                    ("sendPhoto", "photo") if media.kind == "image" else ("sendDocument", "document")
                )
                params = {**base, field: media.ref}
                if media.caption:
                    params.update(caption=to_html(media.caption), parse_mode="HTML")
                ids.append(str((await api.call(method, params))["message_id"]))
            if message.text:
                params = {**base, "text": to_html(message.text), "parse_mode": "HTML"}
                ids.append(str((await api.call("sendMessage", params))["message_id"]))
        if not ids:
            raise ValueError("an outbound Telegram message needs text or media")
        sent = f"{message.target}:{ids[-1]}"
        if key is not None:
            self._sent[key] = sent
            while len(self._sent) > 1000:
                self._sent.popitem(last=False)
        return sent

    async def set_typing(self, target: str) -> None:
        async with httpx.AsyncClient() as http:
            await self._api(http).call("sendChatAction", {"chat_id": _chat_id(target), "action": "typing"})

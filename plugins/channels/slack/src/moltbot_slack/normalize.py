"""Slack ``event_callback`` payloads to :class:`moltbot.InboundMessage`.

A message's ``ts`` is only unique within its conversation, so the normalized id is
``<channel id>:<ts>`` (:func:`split_id` turns it back). Slack's text is escaped (``&amp;``
``&lt;`` ``&gt;``) and carries control sequences (``<@U123>``, ``<https://x|label>``,
``<!here>``); the agent gets it readable. In channels every conversation is a thread: a
top-level message starts one (``thread_id`` = its ``ts``) and the reply goes into it, so the
thread is the session. Attachments keep their Slack file ids here; the channel fetches them
afterwards (:mod:`moltbot_slack.media`).
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import UTC, datetime
from typing import Any

import moltbot

HANDLED_SUBTYPES = frozenset({"", "file_share", "thread_broadcast"})
_CONTROL = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def split_id(message_id: str | None) -> tuple[str, str] | None:
    """``(channel, ts)`` of a normalized message id, if it is one."""
    if not message_id or ":" not in message_id:
        return None
    channel, ts = message_id.rsplit(":", 1)
    return channel, ts


def _readable(match: re.Match[str], bot_user: str, bot_name: str | None) -> str:
    inner = match[1]
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        return f"@{bot_name}" if user == bot_user and bot_name else f"@{label or user}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        return f"@{label or target[1:].split('^')[0]}"
    return f"{label} ({target})" if label and label != target else target


def readable(text: str, *, bot_user: str, bot_name: str | None = None) -> str:
    """Slack message text as a person reads it: mentions as ``@name``, links as
    ``label (url)``, entities decoded (after the control sequences, so ``&lt;`` stays text)."""
    plain = _CONTROL.sub(lambda m: _readable(m, bot_user, bot_name), text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def media_of(event: dict[str, Any]) -> tuple[moltbot.Media, ...]:
    """One :class:`moltbot.Media` per shared file, its ref the Slack file id."""
    found: list[moltbot.Media] = []
    for item in event.get("files") or ():
        if not isinstance(item, dict) or not item.get("id"):
            continue
        mime = str(item.get("mimetype") or "")
        major = mime.split("/", 1)[0]
        kind = major if major in ("image", "audio", "video") else "document"
        found.append(moltbot.Media(kind=kind, ref=str(item["id"]), mime_type=mime or None))  # type: ignore[arg-type]
    return tuple(found)


def normalize(
    payload: dict[str, Any],
    *,
    channel: str,
    account: str,
    bot_user: str,
    bot_name: str | None = None,
    bot_threads: Container[str] = (),
) -> moltbot.InboundMessage | None:
    """The message in an ``event_callback`` ``payload``, or None for events moltbot does not
    handle (edits, joins, other bots' and its own messages)."""
    event = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    if event.get("type") not in ("message", "app_mention"):
        return None
    subtype = str(event.get("subtype") or "")
    if subtype not in HANDLED_SUBTYPES or event.get("bot_id") or not event.get("user"):
        return None
    sender = str(event["user"])
    if sender == bot_user:
        return None
    raw = str(event.get("text") or "")
    media = media_of(event)
    if not raw and not media:
        return None
    conversation, ts = str(event["channel"]), str(event["ts"])
    thread_ts = event.get("thread_ts")
    dm = event.get("channel_type") == "im"
    mentions = tuple(dict.fromkeys(f"@{user}" for user in _USER.findall(raw)))
    mentioned = (
        event.get("type") == "app_mention"
        or f"<@{bot_user}" in raw
        or (bool(thread_ts) and event.get("parent_user_id") == bot_user)
        or (bool(thread_ts) and thread_ts in bot_threads)
    )
    profile = event.get("user_profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or None
    return moltbot.InboundMessage(
        channel=channel,
        account=account,
        sender=sender,
        sender_name=name,
        chat_type="dm" if dm else "group",
        chat_id=conversation,
        text=readable(raw, bot_user=bot_user, bot_name=bot_name),
        message_id=f"{conversation}:{ts}",
        timestamp=datetime.fromtimestamp(float(ts), UTC),
        media=media,
        mentions=mentions,
        mentions_bot=mentioned,
        reply_to=f"{conversation}:{thread_ts}" if thread_ts and thread_ts != ts else None,
        thread_id=str(thread_ts) if thread_ts else (None if dm else ts),
    )

"""Helpers channel plugins share: the sent-key memory, the run's HTTP client, log labels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from moltbot.channels.http import RunClient
from moltbot.channels.sent import SentMessages
from moltbot.testing import build_context


def test_sent_messages_answer_a_repeated_key_and_stay_bounded() -> None:
    sent = SentMessages(limit=2)
    sent.remember(None, "ignored")
    assert sent.get(None) is None
    for n in range(3):
        sent.remember(f"k{n}", f"id{n}")
    assert [sent.get(f"k{n}") for n in range(3)] == [None, "id1", "id2"]


async def test_run_client_is_shared_while_running_and_short_lived_otherwise() -> None:
    holder = RunClient()
    async with holder.running() as running, holder.client() as shared:
        assert shared is running
    assert running.is_closed
    async with holder.client() as own:
        assert own is not running
    assert own.is_closed


def test_label_names_the_account_unless_default(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, "telegram")
    assert ctx.label == "telegram"
    assert replace(ctx, account="work").label == "telegram (account work)"

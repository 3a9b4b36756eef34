"""Webhook mode through the real gateway's HTTP port: setWebhook, the secret check on
/webhooks/telegram, switching between polling and webhook, and several bot accounts."""

from pathlib import Path

import pytest
import trio
from moltbot_telegram.channel import TelegramChannel
from moltbot_telegram.config import TelegramConfig

import moltbot
from moltbot.channels.testing import settled
from moltbot.specs import BuildContext
from moltbot.testing import build_context

from .fake_telegram import BOT, TOKEN, FakeTelegram
from .harness import (
    PUBLIC_URL,
    SECRET,
    eventually,
    serve_webhook_route,
    stack,
    telegram_config,
    webhook_config,
)


def calls(fake: FakeTelegram, method: str) -> int:
    return sum(c.method == method for c in fake.calls)


async def test_the_secret_is_checked_on_every_delivery(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, webhook_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        assert fake.webhook == {"url": PUBLIC_URL, "secret_token": SECRET, "allowed_updates": ["message"]}
        update = fake.user_says("sneaky")
        fake.updates.clear()  # delivered by hand below, not by the fake's sender
        assert (await fake.post_update(s.webhook_url, update, secret="wrong-secret")).status_code == 401
        assert (await fake.post_update(s.webhook_url, update, secret="")).status_code == 401
        assert (await fake.post_update(s.webhook_url, b"{not json", secret=SECRET)).status_code == 400
        assert (await fake.post_update(s.webhook_url, b'["no update"]', secret=SECRET)).status_code == 400
        assert (await fake.post_update(s.webhook_url, b"\xff\xfe", secret=SECRET)).status_code == 400
        await trio.sleep(0.2)
        assert s.agent.calls == [] and fake.sent() == []
        odd = {
            "update_id": 7,
            "message": {"chat": {"id": 1, "type": "private"}, "from": {"id": 1}, "text": "?"},
        }
        assert (await fake.post_update(s.webhook_url, odd)).status_code == 200  # skipped, logged
        assert (await fake.post_update(s.webhook_url, update)).status_code == 200
        await eventually(lambda: len(fake.sent()) == 1, "the reply to the delivery")
        assert fake.sent()[0]["text"] == "echo: sneaky"
        assert s.service.status()["channels"]["telegram"]["restarts"] == 0
    assert calls(fake, "getUpdates") == 0
    assert calls(fake, "deleteWebhook") == 0 and fake.webhook  # kept: Telegram queues updates meanwhile


async def test_no_running_telegram_webhook_answers_503(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    async with stack(moltbot_home, telegram_config(fake)) as s:  # polling: nobody takes webhooks
        await eventually(lambda: s.state() == "running", "running")
        update = fake.user_says("hi")
        fake.updates.clear()  # only the hand delivery below, never polled
        response = await fake.post_update(s.webhook_url, update, secret=SECRET)
        assert response.status_code == 503 and "no telegram channel is running" in response.text


async def test_switching_between_polling_and_webhook(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    access = {"dmPolicy": "open", "allowFrom": ["*"]}
    async with stack(moltbot_home, telegram_config(fake, **access)) as s:
        fake.user_says("polled")
        await eventually(lambda: len(fake.sent()) == 1, "the polled reply")
        await settled(s.service)
    assert calls(fake, "deleteWebhook") == 0  # getWebhookInfo said no webhook was set
    fake.user_says("sent while the gateway was down")
    async with stack(moltbot_home, webhook_config(fake, **access)) as s:
        fake.tunnel = s.webhook_url
        await eventually(lambda: len(fake.sent()) == 2, "the queued update, now by webhook")
        fake.user_says("pushed")
        await eventually(lambda: len(fake.sent()) == 3, "the pushed reply")
        await settled(s.service)
    fake.user_says("sent while the gateway was down again")
    # the webhook stays set; Telegram keeps the update and retries until a gateway answers
    await eventually(lambda: fake.deliveries[-1:] == [0], "a failed delivery while the gateway is down")
    assert fake.webhook["url"] == PUBLIC_URL
    fake.tunnel = None  # the dead gateway's port may be anyone's now: no more deliveries to it
    async with stack(moltbot_home, telegram_config(fake, **access)):
        await eventually(lambda: len(fake.sent()) == 4, "the queued update, polled again")
        assert calls(fake, "deleteWebhook") == 1 and not fake.webhook
    assert [p["text"] for p in fake.sent()] == [
        "echo: polled",
        "echo: sent while the gateway was down",
        "echo: pushed",
        "echo: sent while the gateway was down again",
    ]


async def test_a_webhook_url_telegram_refuses_stops_the_channel(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    config = webhook_config(fake, webhookUrl="http://molt.example.test/webhooks/telegram")
    async with stack(moltbot_home, config) as s:
        await eventually(lambda: s.state() == "stopped", "stopped")
        status = s.service.status()["channels"]["telegram"]
        assert "An HTTPS URL must be provided" in status["lastError"]


def account_channel(fake: FakeTelegram, tmp_path: Path, account: str, secret: str) -> TelegramChannel:
    config = TelegramConfig.model_validate(webhook_config(fake, webhookSecret=secret))
    ctx = build_context(tmp_path / account, "telegram")
    return TelegramChannel(
        config, BuildContext(name=ctx.name, state_dir=ctx.state_dir, settings=ctx.settings, account=account)
    )


async def test_each_account_gets_the_updates_signed_with_its_secret(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    url = await serve_webhook_route(nursery)
    work, home = (
        FakeTelegram(),
        FakeTelegram(token="987654:XYZ-other-bot-token-0000000000", bot={**BOT, "id": 5150}),
    )
    for fake in (work, home):
        await nursery.start(fake.run)
        fake.tunnel = url
    send, recv = trio.open_memory_channel[moltbot.InboundMessage](10)
    async with trio.open_nursery() as inner:
        await inner.start(account_channel(work, tmp_path, "work", "work-secret").run, send.clone())
        await inner.start(account_channel(home, tmp_path, "home", "home-secret").run, send.clone())
        work.user_says("for work", user_id=1)
        home.user_says("for home", user_id=2)
        with trio.fail_after(5):
            got = {(m.account, m.text, m.sender) for m in (await recv.receive(), await recv.receive())}
        assert got == {("work", "for work", "1"), ("home", "for home", "2")}
        assert (await work.post_update(url, work.user_says("x"), secret="home-secret-not")).status_code == 401
        with pytest.raises(moltbot.ChannelFatalError, match="share a webhookSecret"):
            await account_channel(home, tmp_path, "spare", "work-secret").run(send.clone())
        inner.cancel_scope.cancel()
    assert work.webhook["secret_token"] == "work-secret" and home.webhook["secret_token"] == "home-secret"
    assert home.token != TOKEN and [c.method for c in home.calls[:2]] == ["getMe", "setWebhook"]


async def test_two_bot_accounts_through_the_channels_service(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    work, home = (
        FakeTelegram(),
        FakeTelegram(token="987654:XYZ-other-bot-token-0000000000", bot={**BOT, "id": 5150}),
    )
    for fake in (work, home):
        await nursery.start(fake.run)
    section = {
        "dmPolicy": "open",
        "allowFrom": ["*"],
        "pollTimeout": 1000,
        "accounts": {
            "work": {**webhook_config(work, webhookSecret="work-secret")},
            "home": {"botToken": home.token, "apiBaseUrl": home.base_url},  # polls
        },
    }
    async with stack(moltbot_home, section) as s:
        work.tunnel = s.webhook_url
        await eventually(
            lambda: s.service.status()["channels"]["telegram:home"]["state"] == "running", "home"
        )
        work.user_says("for work", user_id=1)
        home.user_says("for home", user_id=2)
        await eventually(lambda: len(work.sent()) == len(home.sent()) == 1, "a reply from each bot")
        assert work.sent()[0]["text"] == "echo: for work" and home.sent()[0]["text"] == "echo: for home"
        assert (
            sorted(c.session_key for c in s.agent.calls)
            == [
                "agent:main:telegram:dm:1",
                "agent:main:telegram:dm:2",
            ]
            or len(s.agent.calls) == 2
        )
    assert home.webhook == {} and work.webhook["secret_token"] == "work-secret"


async def test_a_running_bot_sends_over_its_own_connection(tmp_path: Path, nursery: trio.Nursery) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    channel = TelegramChannel(
        TelegramConfig.model_validate(webhook_config(fake)), build_context(tmp_path, "telegram")
    )
    send, _recv = trio.open_memory_channel[moltbot.InboundMessage](1)
    async with trio.open_nursery() as inner:
        await inner.start(channel.run, send)
        for text in ("one", "two"):
            await channel.send(moltbot.OutboundMessage(channel="telegram", target="4242", text=text))
        await channel.set_typing("4242")
        inner.cancel_scope.cancel()
    await channel.send(moltbot.OutboundMessage(channel="telegram", target="4242", text="after run"))
    peers = [c.peer for c in fake.calls]
    assert [c.method for c in fake.calls][:2] == ["getMe", "setWebhook"]
    assert len(set(peers[:-1])) == 1 and peers[-1] != peers[0]


async def test_an_accepted_update_survives_a_crash_before_routing(
    tmp_path: Path, nursery: trio.Nursery
) -> None:
    fake = FakeTelegram()
    await nursery.start(fake.run)
    config = TelegramConfig.model_validate(webhook_config(fake))
    ctx = build_context(tmp_path, "telegram")
    update = fake.user_says("said while the gateway went down")
    fake.updates.clear()
    crashed = TelegramChannel(config, ctx)
    assert crashed.accept(update)  # answered 200, then the process died before run() took it
    assert [u["update_id"] for u in crashed.spool.pending()] == [update["update_id"]]
    restarted = TelegramChannel(config, ctx)
    send, recv = trio.open_memory_channel[moltbot.InboundMessage](10)
    async with trio.open_nursery() as inner:
        await inner.start(restarted.run, send)
        with trio.fail_after(10):
            message = await recv.receive()
        inner.cancel_scope.cancel()
    assert message.text == "said while the gateway went down"
    assert restarted.spool.pending() == []

"""WhatsApp end to end: signed webhooks into the gateway port -> router -> echo agent ->
Graph API /messages at the fake."""

from pathlib import Path

import trio
from click.testing import CliRunner

from moltbot.cli import cli
from moltbot.interfaces.channel import Origin

from .fake_whatsapp import USER, FakeWhatsApp
from .harness import eventually, stack, whatsapp_config


def approve(state: Path, code: str) -> None:
    args = ["--no-plugins", "--state-dir", str(state), "pairing", "approve", "whatsapp", code]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


async def test_verification_handshake(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake)) as s:
        await eventually(lambda: s.state() == "running", "running")
        ok = await fake.verify(s.webhook_url)
        assert ok.status_code == 200 and ok.text == "1158201444"
        assert (await fake.verify(s.webhook_url, token="wrong-token-123")).status_code == 403


async def test_signatures_are_checked_on_every_delivery(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        payload = fake.text("sneaky")
        assert (await fake.deliver(s.webhook_url, payload, signature="")).status_code == 403
        assert (await fake.deliver(s.webhook_url, payload, secret="not-the-app-secret")).status_code == 403
        assert (await fake.deliver(s.webhook_url, payload, signature="sha256=" + "0" * 64)).status_code == 403
        await trio.sleep(0.2)
        assert s.agent.calls == [] and fake.sent() == []
        assert (await fake.deliver(s.webhook_url, payload)).status_code == 200
        await eventually(lambda: len(fake.sent()) == 1, "the reply to the signed delivery")


async def test_pair_then_chat_with_receipts_and_one_reply_per_redelivery(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake), typing_interval=0.05) as s:
        await eventually(lambda: s.state() == "running", "running")
        assert (await fake.deliver(s.webhook_url, fake.text("hi there"))).status_code == 200
        await eventually(lambda: len(fake.sent()) == 1, "the pairing code")
        pairing = fake.sent()[0]
        assert pairing["to"] == USER and pairing["type"] == "text"
        code = pairing["text"]["body"].split("Pairing code: ")[1][:8]
        assert s.agent.calls == []
        approve(moltbot_home, code)
        s.agent.delay = 0.2
        payload = fake.text("hello *agent*")
        wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        for _ in range(3):  # Meta retries deliveries it thinks failed
            assert (await fake.deliver(s.webhook_url, payload)).status_code == 200
        await eventually(lambda: len(fake.sent()) == 2, "the agent's reply")
        await trio.sleep(0.2)
        reply = fake.sent()[1]
        assert reply["text"] == {"preview_url": False, "body": "echo: hello *agent*"}
        assert reply["context"] == {"message_id": wamid}
        assert len(fake.sent()) == 2 and len(s.agent.calls) == 1
        assert s.agent.calls[0].session_key == f"agent:main:whatsapp:dm:{USER}"
        receipts = fake.receipts()
        assert receipts and receipts[0] == {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": wamid,
            "typing_indicator": {"type": "text"},
        }


async def test_media_reactions_and_statuses(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake, allowFrom=[f"+{USER}"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        media_id = fake.add_media(b"\xff\xd8\xff\xe0 a cat", "image/jpeg")
        assert (
            await fake.deliver(s.webhook_url, fake.media_message("image", media_id, caption="my cat"))
        ).status_code == 200
        await fake.deliver(s.webhook_url, fake.message("reaction", {"message_id": "wamid.X1", "emoji": "👍"}))
        await eventually(lambda: len(s.agent.calls) == 2, "two agent runs")
        first, ref = s.agent.calls[0].text.split("\n[image ")
        assert (
            first == "my cat"
            and ref.startswith("media/inbound/whatsapp/")
            and ref.endswith(f"-{media_id}.jpg]")
        )
        workspace = Path(s.app.settings.agent.workspace).expanduser()
        assert (workspace / ref.removesuffix("]")).read_bytes() == b"\xff\xd8\xff\xe0 a cat"
        assert s.agent.calls[1].text == "[reaction 👍]"
        await fake.deliver(
            s.webhook_url, fake.status("wamid.OUT1", "failed", error=(131047, "Re-engagement message"))
        )
        channel = s.service.channels["whatsapp"].channel
        await eventually(lambda: "wamid.OUT1" in channel.statuses, "the status")  # type: ignore[attr-defined]
        assert channel.statuses["wamid.OUT1"].errors == ("131047: Re-engagement message",)  # type: ignore[attr-defined]


async def test_a_group_message_that_mentions_the_bot_gets_a_group_reply(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    group = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
    config = whatsapp_config(fake, groupPolicy="allowlist", groups={group: {}})
    async with stack(moltbot_home, config) as s:
        await eventually(lambda: s.state() == "running", "running")
        await fake.deliver(s.webhook_url, fake.message("text", {"body": "chatting among us"}, group_id=group))
        await fake.deliver(
            s.webhook_url, fake.message("text", {"body": "@15550001111 hi bot"}, group_id=group)
        )
        await eventually(lambda: len(fake.sent()) == 1, "the group reply")
        assert len(s.agent.calls) == 1 and s.agent.calls[0].text == "@15550001111 hi bot"
        reply = fake.sent()[0]
        assert (reply["recipient_type"], reply["to"]) == ("group", group)
        assert reply["text"]["body"] == "echo: @15550001111 hi bot"
        assert fake.receipts() == []  # no read receipt / typing indicator inside groups


async def test_rate_limits_are_retried_and_long_replies_split(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake)) as s:
        await eventually(lambda: s.state() == "running", "running")
        fake.fail_next(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")
        fake.fail_next(429, 130429, "(#130429) Rate limit hit", headers={"Retry-After": "0"})
        text = "```\n" + "\n".join(f"row {i:05d}" for i in range(900)) + "\n```"
        await s.service.deliver(
            Origin(channel="whatsapp", chat_id=USER, sender=USER, message_id="wamid.IN"), text
        )
        bodies = [b["text"]["body"] for b in fake.sent() if "text" in b]
        assert len(bodies) == 5 and bodies[0] == bodies[1] == bodies[2]  # refused twice, then sent
        chunks = bodies[2:]
        assert all(len(b) <= 4096 and b.count("```") == 2 for b in chunks)
        assert sum(b.count("row ") for b in chunks) == 900


async def test_an_invalid_token_stops_the_channel(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    async with stack(moltbot_home, whatsapp_config(fake, accessToken="EAAG-expired-token-0000")) as s:
        await eventually(lambda: s.state() == "stopped", "stopped")
        assert "code 190" in s.service.status()["channels"]["whatsapp"]["lastError"]
        # the route answers 503 while no channel receives: Meta keeps the delivery for later
        assert (await fake.deliver(s.webhook_url, fake.text("anyone?"))).status_code == 503


async def test_graph_api_outage_backs_off_and_recovers(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeWhatsApp()
    await nursery.start(fake.run)
    fake.go_down()
    async with stack(moltbot_home, whatsapp_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.service.status()["channels"]["whatsapp"]["restarts"] >= 3, "restarts")
        assert s.state() in ("backoff", "starting")
        assert (await fake.deliver(s.webhook_url, fake.text("lost?"))).status_code == 503
        fake.come_up()
        await eventually(lambda: s.state() == "running", "running after the outage")
        assert (await fake.deliver(s.webhook_url, fake.text("back"))).status_code == 200
        await eventually(lambda: len(fake.sent()) == 1, "a reply after the outage")

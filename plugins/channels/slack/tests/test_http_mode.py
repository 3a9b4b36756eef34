"""Events API over HTTP through the real gateway port: signatures (good, bad, stale, replayed),
``url_verification``, Slack's retries answered once, and two accounts told apart by secret."""

import json
import time
from pathlib import Path

import trio

from .fake_slack import SIGNING_SECRET, USER, FakeSlack
from .harness import eventually, http_config, stack


async def test_signatures_challenge_and_retries(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, http_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        challenge = {
            "token": "unused",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
        answer = await fake.post_event(s.webhook_url, challenge)
        assert answer.status_code == 200 and answer.json() == {"challenge": challenge["challenge"]}
        assert (
            await fake.post_event(s.webhook_url, challenge, secret="someone-elses-secret")
        ).status_code == 401
        event = fake.payload(fake.user_says("hello over http"))
        stale = int(time.time()) - 301
        assert (await fake.post_event(s.webhook_url, event, timestamp=stale)).status_code == 401
        future = int(time.time()) + 400
        assert (await fake.post_event(s.webhook_url, event, timestamp=future)).status_code == 401
        body = json.dumps(event).encode()
        tampered = await fake.post_event(s.webhook_url, body.replace(b"hello", b"HELLO"), secret="x")
        assert tampered.status_code == 401
        assert (await fake.post_event(s.webhook_url, event)).status_code == 200
        assert (await fake.post_event(s.webhook_url, event, retry_num=1)).status_code == 200
        await eventually(lambda: len(fake.messages) == 1, "the reply")
        assert (await fake.post_event(s.webhook_url, event, retry_num=2)).status_code == 200
        await trio.sleep(0.3)
        assert [c.text for c in s.agent.calls] == ["hello over http"] and len(fake.messages) == 1
        assert fake.messages[0]["channel"] == f"D0{USER}" and "thread_ts" not in fake.messages[0]


async def test_the_fake_sender_reaches_the_gateway(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, http_config(fake, dmPolicy="open", allowFrom=["*"])) as s:
        await eventually(lambda: s.state() == "running", "running")
        fake.request_url = s.webhook_url
        fake.user_says("one")
        fake.user_says("two")
        await eventually(lambda: len(fake.messages) == 2, "two replies")
        # the bot's own replies come back as events too (bot_id set); they are acknowledged, not answered
        await eventually(lambda: len(fake.deliveries) == 4, "the echoes of the bot's replies delivered")
        assert set(fake.deliveries) == {200} and sorted(c.text for c in s.agent.calls) == ["one", "two"]


async def test_no_running_account_answers_503(moltbot_home: Path, nursery: trio.Nursery) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    async with stack(moltbot_home, http_config(fake, enabled=False)) as s:
        response = await fake.post_event(s.webhook_url, fake.payload(fake.user_says("anyone?")))
        assert response.status_code == 503


async def test_two_accounts_are_told_apart_by_signing_secret(
    moltbot_home: Path, nursery: trio.Nursery
) -> None:
    fake = FakeSlack()
    await nursery.start(fake.run)
    other_secret = "0123456789abcdef0123456789abcdef"
    config = http_config(fake, dmPolicy="open", allowFrom=["*"])
    config["accounts"] = {"main": {}, "side": {"signingSecret": other_secret}}
    async with stack(moltbot_home, config) as s:
        await eventually(
            lambda: s.state("slack:main") == "running" and s.state("slack:side") == "running", "both accounts"
        )
        for secret, text in ((SIGNING_SECRET, "to main"), (other_secret, "to side")):
            response = await fake.post_event(s.webhook_url, fake.payload(fake.user_says(text)), secret=secret)
            assert response.status_code == 200
        await eventually(lambda: len(s.agent.calls) == 2, "both messages")
        routed = {c.text: c.origin.account for c in s.agent.calls if c.origin}
        assert routed == {"to main": "main", "to side": "side"}

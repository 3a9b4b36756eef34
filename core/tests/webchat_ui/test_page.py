"""The WebChat page in real headless Chromium against a real gateway with a fake model."""

from __future__ import annotations

import json

import trio

from moltbot.gateway.client import ConnectOptions, connect
from moltbot.testing.fake_openai import Reply

from .cdp import Page
from .conftest import TOKEN, gateway_config, http_url, serving

CONNECTED = "document.body.dataset.state === 'connected'"
LOGIN_SHOWN = "!document.querySelector('#login').hidden"
REPLIES = "[...document.querySelectorAll('#transcript .msg.assistant')]"


def last_reply(state: str = "final") -> str:
    """JS: the text of the last assistant bubble once it is in ``state`` (else null)."""
    return (
        f"(() => {{ const r = {REPLIES}.at(-1);"
        f" return r && r.dataset.state === {json.dumps(state)}"
        " ? r.querySelector('.text').textContent : null; })()"
    )


async def log_in(page: Page, secret: str, *, remember: bool = False) -> None:
    await page.wait_for(LOGIN_SHOWN)
    await page.fill("#secret", secret)
    if remember:
        await page.click("#remember")
    await page.click("#login-submit")


async def send(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#send")


def user_texts(fake) -> list[str]:
    return [m["content"] for r in fake.requests for m in r.body["messages"] if m["role"] == "user"]


async def test_log_in_send_and_see_the_reply_and_other_clients_messages(page, make_app, fake):
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="hello from the fake model"))
    with trio.fail_after(15):
        async with serving(app) as gateway:
            url = http_url(gateway)
            await page.goto(url + "/")
            await log_in(page, TOKEN)
            await page.wait_for(CONNECTED)
            assert "connected" in await page.evaluate("document.querySelector('#status').textContent")
            await send(page, "hi")
            assert await page.wait_for(last_reply()) == "hello from the fake model"
            assert user_texts(fake)[-1] == "hi"
            mine = await page.evaluate("document.querySelector('#transcript .msg.user .text').textContent")
            assert mine == "hi"
            async with connect(url.replace("http", "ws", 1), ConnectOptions(token=TOKEN)) as other:
                await other.call(
                    "send", {"channel": "webchat", "to": "main", "message": "a note", "idempotencyKey": "n1"}
                )
            # the previous reply is already final: wait for the new bubble, not for any final one
            assert await page.wait_for(f"{last_reply()} === 'a note'")
            assert await page.evaluate(f"{REPLIES}.length") == 2
            assert await page.evaluate("localStorage.length") == 0  # "remember" was not ticked


async def test_a_wrong_token_shows_the_gateways_error_and_no_chat(page, make_app, fake):
    app = make_app(gateway_config(fake))
    with trio.fail_after(10):
        async with serving(app) as gateway:
            url = http_url(gateway)
            await page.goto(url + "/")
            await log_in(page, "not-the-token")
            error = await page.wait_for("document.querySelector('#login-error').textContent")
            assert error.startswith("unauthorized: gateway token mismatch")
            assert await page.evaluate("document.querySelector('#chat').hidden") is True
            assert await page.evaluate(LOGIN_SHOWN) is True
            assert await page.evaluate("document.body.dataset.state") == "login"
    assert fake.requests == []


async def test_history_after_a_reload_with_a_remembered_token(page, make_app, fake):
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="first answer"))
    with trio.fail_after(15):
        async with serving(app) as gateway:
            url = http_url(gateway)
            await page.goto(url + "/")
            await log_in(page, TOKEN, remember=True)
            await page.wait_for(CONNECTED)
            await send(page, "remember me")
            await page.wait_for(last_reply())
            assert json.loads(await page.evaluate("localStorage.getItem('moltbot.webchat.auth')")) == {
                "token": TOKEN
            }
            await page.reload()
            await page.wait_for(CONNECTED)  # no form: the remembered token is used
            shown = await page.wait_for(
                "(() => { const m = [...document.querySelectorAll('#transcript .msg[data-state=history]')];"
                " return m.length === 2 && m.map((e) => e.className + ':' + e.textContent); })()"
            )
            assert shown == ["msg user:remember me", "msg assistant:first answer"]
            await page.click("#logout")
            await page.wait_for(LOGIN_SHOWN)
            assert await page.evaluate("localStorage.getItem('moltbot.webchat.auth')") is None


async def test_fragment_token_leaves_the_address_bar_and_markup_is_shown_as_text(page, make_app, fake):
    attack = '<img src=x onerror="window.__pwned = 1"><b>bold</b>'
    app = make_app(gateway_config(fake))
    fake.script(Reply(text=attack))
    with trio.fail_after(15):
        async with serving(app) as gateway:
            url = http_url(gateway)
            await page.goto(f"{url}/#token={TOKEN}")
            await page.wait_for(CONNECTED)
            assert await page.evaluate("location.href") == url + "/"
            await send(page, "show me markup")
            assert await page.wait_for(last_reply()) == attack
            assert (
                await page.evaluate("document.querySelectorAll('#transcript img, #transcript b').length") == 0
            )
            assert await page.evaluate("window.__pwned === undefined") is True
            assert await page.evaluate("localStorage.length") == 0


async def test_deltas_grow_one_bubble_and_stop_aborts_the_run(page, make_app, fake):
    app = make_app(gateway_config(fake))
    fake.script(Reply(chunks=["partial ", *["more "] * 200], chunk_delay=0.1))
    with trio.fail_after(15):
        async with serving(app) as gateway:
            url = http_url(gateway)
            await page.goto(f"{url}/#token={TOKEN}")
            await page.wait_for(CONNECTED)
            await send(page, "talk slowly")
            streamed = await page.wait_for(last_reply("delta"))
            assert streamed.startswith("partial")
            assert await page.evaluate("document.querySelector('#stop').disabled") is False
            await page.click("#stop")
            stopped = await page.wait_for(last_reply("aborted"))
            assert stopped.startswith("partial")
            assert await page.evaluate(f"{REPLIES}.length") == 1
            meta = await page.evaluate(f"{REPLIES}.at(-1).querySelector('.meta').textContent")
            assert meta == "stopped"
            assert await page.evaluate("document.querySelector('#stop').disabled") is True


async def test_a_dropped_connection_reconnects_and_reloads_the_history(page, make_app, fake):
    app = make_app(gateway_config(fake))
    fake.script(Reply(text="before the drop"))
    with trio.fail_after(15):
        async with serving(app) as gateway:
            await page.goto(f"{http_url(gateway)}/#token={TOKEN}")
            await page.wait_for(CONNECTED)
            await send(page, "hello")
            await page.wait_for(last_reply())
            # record every status line: the retry message may last only the first backoff (~0.5 s)
            await page.evaluate(
                "window.__statuses = []; new MutationObserver(() => window.__statuses.push("
                "document.querySelector('#status').textContent)).observe("
                "document.querySelector('#status'), {childList: true, characterData: true, subtree: true})"
            )
            for connection in list(gateway.connections.values()):
                connection.close(1012, "restarting")
            status = await page.wait_for("window.__statuses.find(s => s.startsWith('connection lost'))")
            assert status.startswith("connection lost (1012: restarting); retrying in")
            await page.wait_for(CONNECTED)
            shown = await page.wait_for(
                "(() => { const m = [...document.querySelectorAll('#transcript .msg')];"
                " return m.length === 2 && m.every((e) => e.dataset.state === 'history')"
                " && m.map((e) => e.textContent); })()"
            )
            assert shown == ["hello", "before the drop"]

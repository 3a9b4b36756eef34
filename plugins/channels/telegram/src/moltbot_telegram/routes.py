"""``POST /webhooks/telegram``: hands each webhook delivery to the running bot it is for.

The route is registered when the plugin loads; bots in webhook mode register themselves in
:mod:`moltbot.channels.webhooks` while they run. The delivery's ``X-Telegram-Bot-Api-Secret-Token``
picks the account (constant-time compare against each running bot's ``webhookSecret``). No
running bot: 503, so Telegram keeps the update and retries; the answer is 200 as soon as the
update is queued, since Telegram waits for it before sending the next one.
"""

from __future__ import annotations

import json

from loguru import logger
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from moltbot.channels import webhooks

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def webhook(request: Request) -> Response:
    running = webhooks.receivers("telegram")
    if not running:
        return PlainTextResponse("no telegram channel is running in webhook mode", status_code=503)
    secret = request.headers.get(SECRET_HEADER)
    if not secret:
        return PlainTextResponse(f"missing {SECRET_HEADER}", status_code=401)
    matching = [channel for channel in running.values() if channel.secret_matches(secret)]
    if not matching:
        logger.warning("telegram: rejected a webhook delivery with a wrong secret token")
        return PlainTextResponse(f"wrong {SECRET_HEADER}", status_code=401)
    try:
        update = json.loads(await request.body())
    except (ValueError, RecursionError):
        return PlainTextResponse("the body is not JSON", status_code=400)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return PlainTextResponse("the body is not a Telegram Update", status_code=400)
    if not matching[0].accept(update):
        return PlainTextResponse("busy, deliver again later", status_code=503)
    return PlainTextResponse("OK")

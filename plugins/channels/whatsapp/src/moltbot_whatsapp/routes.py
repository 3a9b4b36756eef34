"""The webhook endpoint: hands each request to the running WhatsApp channel.

The route is registered when the plugin loads; the channel object exists only while the
channels service runs it, and registers itself in :mod:`moltbot.channels.webhooks` for that
time. Without a running channel the answer is 503, so Meta keeps the delivery and retries.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from moltbot.channels import webhooks


async def webhook(request: Request) -> Response:
    channel = webhooks.receiver("whatsapp")
    if channel is None:
        return PlainTextResponse("the whatsapp channel is not running", status_code=503)
    if request.method == "GET":
        return channel.verify(request.query_params)
    return await channel.receive(await request.body(), request.headers)

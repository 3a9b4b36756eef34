"""``POST /webhooks/slack``: the Events API request URL, shared by every account in ``http`` mode.

Every request must carry a fresh ``X-Slack-Request-Timestamp`` (at most five minutes off) and
an ``X-Slack-Signature`` that one running account's signing secret verifies (401 otherwise).
``url_verification`` (sent when the Request URL is saved in the app settings) is answered with
its challenge. An ``event_callback`` goes to the signing account it is addressed to (by
workspace, for two installations of one app) and is answered 200 as soon as it is journaled;
503 when the account's queue is full or nothing runs, so Slack retries. Slack's retries
(``X-Slack-Retry-Num``) of something already accepted are dropped by the channel and the
router's dedupe.
"""

from __future__ import annotations

import json

from loguru import logger
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from moltbot.channels import webhooks
from moltbot_slack.signing import fresh

CHANNEL = "slack"


async def events(request: Request) -> Response:
    running = webhooks.receivers(CHANNEL)
    if not running:
        return PlainTextResponse("no slack account is running in http mode", status_code=503)
    timestamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return PlainTextResponse("missing X-Slack-Request-Timestamp or X-Slack-Signature", status_code=401)
    if not fresh(timestamp):
        logger.warning("slack: refused a request with a stale timestamp (a replay, or a wrong clock)")
        return PlainTextResponse("stale X-Slack-Request-Timestamp", status_code=401)
    body = await request.body()
    # every account is checked (no short-circuit), so timing says nothing about which matched
    checks = [(channel, channel.signed(timestamp, body, signature)) for _, channel in sorted(running.items())]
    signed = [channel for channel, ok in checks if ok]
    if not signed:
        logger.warning("slack: refused a request with a bad signature")
        return PlainTextResponse("bad X-Slack-Signature", status_code=401)
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return PlainTextResponse("the body is not JSON", status_code=400)
    if not isinstance(payload, dict):
        return PlainTextResponse("the body is not an Events API payload", status_code=400)
    if payload.get("type") == "url_verification":
        return JSONResponse({"challenge": str(payload.get("challenge", ""))})
    if payload.get("type") != "event_callback":
        return PlainTextResponse("OK")
    target = next((channel for channel in signed if channel.addressed(payload)), None)
    if target is None:
        logger.warning(
            "slack: an event for workspace {} matches no running installation; acknowledged and dropped",
            payload.get("team_id"),
        )
        return PlainTextResponse("OK")
    retry = request.headers.get("x-slack-retry-num")
    if retry:
        logger.debug("slack: redelivery {} of event {}", retry, payload.get("event_id"))
    if not target.accept(payload):
        return PlainTextResponse("busy, deliver again later", status_code=503)
    return PlainTextResponse("OK")

"""The webhook endpoint shared by every account: Meta posts all of an app's phone numbers to
one callback URL, so the route picks the account per change.

``GET`` (subscription handshake) succeeds when ``hub.verify_token`` is any running account's.
``POST``: the ``X-Hub-Signature-256`` must verify under some running account's app secret
before anything is parsed (missing: 401, wrong: 403); each ``messages`` change then goes to the
running account whose ``phoneNumberId`` is ``value.metadata.phone_number_id`` and whose secret
verified. A change for a configured account that is not running (restarting) makes the answer
503, so Meta delivers again (the router's dedupe drops what already got through); a change for
a phone number no enabled account has, one signed with another account's secret, or a
malformed one is logged and acknowledged: retrying cannot fix those, and Meta would retry for
days. With no running account at all the answer is 503.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from loguru import logger
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from moltbot.channels import webhooks
from moltbot.config.accounts import account_sections
from moltbot_whatsapp.normalize import message_changes

CHANNEL = "whatsapp"


async def webhook(request: Request) -> Response:
    channels = webhooks.receivers(CHANNEL)
    if not channels:
        return PlainTextResponse("the whatsapp channel is not running", status_code=503)
    if request.method == "GET":
        return verify(request.query_params, channels)
    return deliver(await request.body(), request.headers, channels)


def verify(query: Mapping[str, str], channels: Mapping[str, Any]) -> Response:
    """The subscription handshake: echo ``hub.challenge`` if the verify token is an account's."""
    token = query.get("hub.verify_token", "")
    # every account is checked (no short-circuit), so timing says nothing about which matched
    matches = [channel.verify_token_ok(token) for channel in channels.values()]
    if query.get("hub.mode") == "subscribe" and any(matches):
        return PlainTextResponse(query.get("hub.challenge", ""))
    return PlainTextResponse("verification failed", status_code=403)


def configured_numbers(channels: Mapping[str, Any]) -> set[str]:
    """Phone number ids of every enabled account in the configuration, running or not."""
    channel = next(iter(channels.values()))
    accounts, _ = account_sections(channel.settings.channels.get(channel.name))
    enabled = [merged for merged in accounts.values() if merged.get("enabled", True) is not False]
    numbers = [merged.get("phoneNumberId") or merged.get("phone_number_id") for merged in enabled]
    return {str(number) for number in numbers if number}


def deliver(body: bytes, headers: Mapping[str, str], channels: Mapping[str, Any]) -> Response:
    """One delivery: check the signature, hand each change to its account, answer."""
    header = headers.get("x-hub-signature-256")
    if header is None:
        return PlainTextResponse("missing X-Hub-Signature-256", status_code=401)
    signed = [channels[account] for account in sorted(channels) if channels[account].signed(body, header)]
    if not signed:
        logger.warning("whatsapp: rejected a webhook delivery with a bad signature")
        return PlainTextResponse("bad signature", status_code=403)
    try:
        changes = list(message_changes(json.loads(body)))
    except (ValueError, TypeError, AttributeError) as exc:
        return PlainTextResponse(f"bad payload: {type(exc).__name__}: {exc}", status_code=400)
    later = False
    for number, value in changes:
        target = next((c for c in signed if c.phone_number_id == number), None)
        if target is not None:
            try:
                later |= not target.accept(value)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                logger.warning("whatsapp: dropped a malformed change ({}: {})", type(exc).__name__, exc)
        elif any(c.phone_number_id == number for c in channels.values()):
            logger.warning(
                "whatsapp: a delivery for phone number id {} was not signed with that account's "
                "appSecret; acknowledged and dropped",
                number,
            )
        elif number in configured_numbers(channels):
            logger.info("whatsapp: phone number id {} is configured but not running; 503 for now", number)
            later = True
        else:
            logger.warning(
                "whatsapp: a delivery for phone number id {} matches no configured account; "
                "acknowledged and dropped",
                number,
            )
    if later:
        return PlainTextResponse("busy or not running, deliver again later", status_code=503)
    return PlainTextResponse("OK")

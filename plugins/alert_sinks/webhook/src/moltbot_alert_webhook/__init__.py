"""moltbot-alert-webhook: registers the ``webhook`` alert sink."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_alert_sinks() -> Iterator[moltbot.AlertSinkSpec]:
    from moltbot_alert_webhook.sink import WebhookAlertSink, WebhookConfig

    yield moltbot.AlertSinkSpec(
        name="webhook",
        factory=WebhookAlertSink,
        config=WebhookConfig,
        summary="POST alerts as JSON, optionally HMAC-SHA256 signed",
    )

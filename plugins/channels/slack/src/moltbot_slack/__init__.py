"""moltbot-slack: registers the ``slack`` channel (Socket Mode or the Events API over HTTP, Web
API out) and its Events API route ``/webhooks/slack`` on the gateway's HTTP port."""

from collections.abc import Iterator

import moltbot

WEBHOOK_PATH = "/webhooks/slack"


@moltbot.hookimpl
def moltbot_register_channels() -> Iterator[moltbot.ChannelSpec]:
    from moltbot_slack.channel import SlackChannel
    from moltbot_slack.config import SlackConfig

    yield moltbot.ChannelSpec(
        name="slack",
        factory=SlackChannel,
        config=SlackConfig,
        summary="Slack apps (Socket Mode or Events API webhooks, replies in threads, inbound files)",
    )


@moltbot.hookimpl
def moltbot_register_http_routes() -> Iterator[moltbot.RouteSpec]:
    from moltbot_slack.routes import events

    yield moltbot.RouteSpec(
        path=WEBHOOK_PATH,
        handler=events,
        methods=("POST",),
        auth="none",
        summary="Slack Events API request URL (X-Slack-Signature v0 checked, routed by signing secret)",
    )

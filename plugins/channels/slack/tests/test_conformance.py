"""The Slack channel passes the channel conformance suite against the fake Slack, receiving by
Socket Mode and by the Events API (the fake POSTs signed events to the plugin's route)."""

from pathlib import Path

import moltbot_slack
import pydantic
import pytest
import trio
from moltbot_slack.channel import SlackChannel
from moltbot_slack.config import SlackConfig
from moltbot_slack.routes import events
from starlette.applications import Starlette
from starlette.routing import Route

from moltbot.testing import build_context
from moltbot.testing.conformance import ChannelHarness, ChatChannelConformance
from moltbot.testing.loopback import serve_app

from .fake_slack import APP_TOKEN, BOT_TOKEN, USER, FakeSlack
from .harness import http_config, slack_config


async def serve_events_route(nursery: trio.Nursery) -> str:
    """Only the plugin's Events API route on a loopback port (no gateway); its URL."""
    app = Starlette(routes=[Route(moltbot_slack.WEBHOOK_PATH, events, methods=["POST"])])
    return await nursery.start(serve_app, app) + moltbot_slack.WEBHOOK_PATH


class TestSlackConformance(ChatChannelConformance):
    @pytest.fixture(params=["socket", "http"])
    async def harness(
        self, request: pytest.FixtureRequest, tmp_path: Path, nursery: trio.Nursery
    ) -> ChannelHarness:
        fake = FakeSlack()
        await nursery.start(fake.run)
        if request.param == "http":
            fake.request_url = await serve_events_route(nursery)
            raw = http_config(fake)
        else:
            raw = slack_config(fake)
        channel = SlackChannel(SlackConfig.model_validate(raw), build_context(tmp_path, "slack"))

        async def inject(text: str, sender: str) -> None:
            fake.user_says(text, user=sender)

        async def delivered() -> list[str]:
            return fake.sent_texts()

        return ChannelHarness(channel=channel, inject=inject, delivered=delivered, target=f"D0{USER}")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"dmPolicy": "open"}, "botToken"),
        ({"botToken": "xoxp-user-token-1234"}, "starting with 'xoxb-'"),
        ({"botToken": BOT_TOKEN}, "mode 'socket' needs appToken"),
        ({"botToken": BOT_TOKEN, "appToken": "xoxb-wrong-kind-1234"}, "starting with 'xapp-'"),
        ({"botToken": BOT_TOKEN, "mode": "http"}, "mode 'http' needs signingSecret"),
        ({"botToken": BOT_TOKEN, "appToken": APP_TOKEN, "mode": "webhook"}, "'socket' or 'http'"),
    ],
)
def test_config_errors_name_the_fix(raw: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        SlackConfig.model_validate(raw)


def test_defaults_are_socket_mode_with_downloads() -> None:
    config = SlackConfig.model_validate({"botToken": BOT_TOKEN, "appToken": APP_TOKEN})
    assert (
        config.mode == "socket" and config.download_media and config.api_base_url == "https://slack.com/api"
    )
    http = SlackConfig.model_validate({"botToken": BOT_TOKEN, "mode": "http", "signingSecret": "abc"})
    assert http.app_token is None and http.signing_secret == "abc"

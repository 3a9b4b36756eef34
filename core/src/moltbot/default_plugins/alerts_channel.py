"""The built-in ``channel`` alert sink: messages the owner through a configured chat channel.

In the gateway process it sends with ``app.services["channels"].send_text`` (chunked, retried,
each alert sent once under its idempotency key). Where no channels service runs — ``moltbot
alerts test`` from a shell — it asks the running gateway's ``send`` method instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from moltbot import hookimpl
from moltbot.config.base import StrictModel
from moltbot.errors import ConfigError
from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.specs import AlertSinkSpec, BuildContext

if TYPE_CHECKING:
    from moltbot.app import App
    from moltbot.gateway.client import ConnectOptions


class ChannelAlertConfig(StrictModel):
    channel: str = Field(min_length=1)
    """A channel configured under ``channels`` (``telegram``, ``whatsapp``...)."""
    target: str | None = Field(None, min_length=1)
    """The owner's chat id or phone number; default: the first entry of the channel's ``allowFrom``."""
    account: str = "default"


def alert_text(alert: Alert) -> str:
    """``[CRITICAL] system.cpuUsage 0.97 > 0.95 — CPU usage is ...`` (``[RESOLVED]`` when it cleared)."""
    value, threshold = f"{alert.current_value:.4g}", f"{alert.threshold:.4g}"
    if alert.state == "resolved":
        return f"[RESOLVED] {alert.metric} {value} ≤ {threshold} ({alert.level}) — {alert.message}"
    return f"[{alert.level.upper()}] {alert.metric} {value} > {threshold} — {alert.message}"


def _owner(channel: str, raw: dict[str, Any], target: str | None) -> str:
    """Check that ``channel`` is configured and enabled; the explicit target or its owner."""
    if raw.get("enabled", True) is False:
        raise ConfigError([("config.channel", f"channel {channel!r} is disabled (channels.{channel})")])
    if target is not None:
        return target
    owners = [entry for entry in raw.get("allowFrom", []) if isinstance(entry, str) and entry != "*"]
    if not owners:
        raise ConfigError(
            [("config.target", f"no target given and channels.{channel}.allowFrom names nobody")]
        )
    return owners[0]


def _gateway_endpoint(settings: Any) -> tuple[str, ConnectOptions]:
    """This machine's own gateway and the config's credentials (as ``moltbot message send``)."""
    from moltbot.gateway.client import ConnectOptions

    gw = settings.gateway
    host = gw.custom_bind_host if gw.bind == "custom" and gw.custom_bind_host else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    url = f"{'wss' if gw.ssl.enabled else 'ws'}://{host}:{gw.port}"
    return url, ConnectOptions(
        token=gw.auth.token if gw.auth.mode == "token" else None,
        password=gw.auth.password if gw.auth.mode == "password" else None,
    )


class ChannelAlertSink(AlertSink):
    def __init__(self, config: ChannelAlertConfig, ctx: BuildContext) -> None:
        channels = ctx.settings.channels
        if config.channel not in channels:
            configured = ", ".join(sorted(channels)) or "none"
            raise ConfigError(
                [
                    (
                        "config.channel",
                        f"channel {config.channel!r} is not configured (configured: {configured})",
                    )
                ]
            )
        self.config = config
        self.target = _owner(config.channel, channels[config.channel] or {}, config.target)
        self.settings = ctx.settings
        self.app: App | None = None

    def attach(self, app: App) -> None:
        self.app = app

    async def send(self, alert: Alert) -> None:
        text = alert_text(alert)
        key = f"alert:{alert.metric}:{alert.level}:{alert.state}:{alert.time.isoformat()}"
        channels = self.app.services.get("channels") if self.app is not None else None
        if channels is not None:
            await channels.send_text(
                self.config.channel, self.target, text, idempotency_key=key, account=self.config.account
            )
            return
        from moltbot.gateway.client import connect

        url, opts = _gateway_endpoint(self.settings)
        params = {
            "channel": self.config.channel,
            "to": self.target,
            "message": text,
            "account": self.config.account,
            "idempotencyKey": key,
        }
        try:
            async with connect(url, opts) as client:
                await client.call("send", params)
        except OSError as exc:
            raise ConnectionError(
                f"no channels service in this process and no gateway answered at {url} ({exc})"
            ) from exc


@hookimpl
def moltbot_register_alert_sinks() -> Iterator[AlertSinkSpec]:
    yield AlertSinkSpec(
        name="channel",
        factory=ChannelAlertSink,
        config=ChannelAlertConfig,
        summary="Alerts as chat messages to the owner through a configured channel",
    )

"""``moltbot metrics``: the gateway's metrics when it runs, else a local sample of this host."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import httpx

from moltbot.cli.state import CliState, pass_state
from moltbot.config.model import Settings
from moltbot.metrics.registry import MetricsRegistry
from moltbot.metrics.sampler import MetricsSampler
from moltbot.system import PsutilProbe


def gateway_url(settings: Settings) -> str:
    """Where this machine reaches its own gateway (loopback unless bound to a custom host)."""
    gateway = settings.gateway
    host = gateway.custom_bind_host if gateway.bind == "custom" and gateway.custom_bind_host else "127.0.0.1"
    scheme = "https" if gateway.ssl.enabled else "http"
    return f"{scheme}://{host}:{gateway.port}"


def _headers(settings: Settings) -> dict[str, str]:
    auth = settings.gateway.auth
    secret = auth.token if auth.mode == "token" else auth.password if auth.mode == "password" else None
    return {"Authorization": f"Bearer {secret}"} if secret else {}


class Source:
    """Fetches from the gateway, falling back to sampling this host when it is not reachable."""

    def __init__(self, state: CliState, url: str | None) -> None:
        self.state = state
        self.settings = state.settings()
        self.url = (url or gateway_url(self.settings)).rstrip("/")
        self.local: MetricsSampler | None = None

    def fetch(self) -> tuple[str, dict[str, Any]]:
        if self.local is None:
            try:
                response = httpx.get(
                    f"{self.url}/api/metrics", headers=_headers(self.settings), timeout=3.0, verify=False
                )
            except httpx.TransportError:
                pass
            else:
                if response.status_code in (401, 403):
                    raise click.ClickException(
                        f"the gateway at {self.url} refused the credentials in the config "
                        f"(HTTP {response.status_code}); check gateway.auth"
                    )
                response.raise_for_status()
                return f"gateway {self.url}", response.json()
            self.local = MetricsSampler(MetricsRegistry(), PsutilProbe(self.state.paths.state_dir))
            self.local.sample(time.monotonic())
            time.sleep(1.0)  # CPU and network figures are rates: they need an interval
        return (
            f"local sample (no gateway at {self.url}; gateway and agent figures are this CLI's own)",
            self.local.sample(time.monotonic()),
        )


def render(source: str, m: dict[str, Any]) -> str:
    g, a, s = m["gateway"], m["agents"], m["system"]
    tokens = a["tokenUsage"]
    return "\n".join(
        [
            f"source: {source}",
            f"gateway  uptime {g['uptime']:.0f}s  connections {g['activeConnections']}  "
            f"requests {g['requestsPerSecond']:.2f}/s  errors {g['errorRate']:.1%}",
            f"agents   sessions {a['activeSessions']}  avg response {a['averageResponseTime']:.0f} ms  "
            f"tokens in {tokens['input']} out {tokens['output']} total {tokens['total']}",
            f"system   cpu {s['cpuUsage']:.1%}  memory {s['memoryUsage']:.1%}  disk {s['diskUsage']:.1%}  "
            f"net in {s['networkIO']['in'] / 1024:.1f} KiB/s out {s['networkIO']['out'] / 1024:.1f} KiB/s",
        ]
    )


@click.command("metrics")
@click.option("--json", "as_json", is_flag=True, help="Print {source, metrics} as JSON.")
@click.option("--watch", is_flag=True, help="Refresh until interrupted.")
@click.option("--interval", type=click.FloatRange(min=0.5), default=2.0, show_default=True)
@click.option("--url", help="Gateway base URL (default: from gateway.port/bind).")
@pass_state
def metrics_command(state: CliState, as_json: bool, watch: bool, interval: float, url: str | None) -> None:
    """Show gateway, agent and system metrics (from the running gateway when reachable)."""
    source = Source(state, url)
    while True:
        origin, metrics = source.fetch()
        if as_json:
            click.echo(json.dumps({"source": origin, "metrics": metrics}))
        else:
            click.echo(render(origin, metrics) + ("\n" if watch else ""))
        if not watch:
            return
        time.sleep(interval)

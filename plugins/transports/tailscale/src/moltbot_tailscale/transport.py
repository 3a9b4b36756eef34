"""The ``tailscale`` transport: Serve (tailnet only) or Funnel (public) in front of the gateway.

The gateway keeps listening on loopback; Tailscale terminates HTTPS on the node's MagicDNS name
and proxies to it. A marker file in the transport's state dir records an exposure that must be
undone, so a crashed gateway's exposure is withdrawn on the next start.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import trio
from loguru import logger

from moltbot.config.store import atomic_write
from moltbot.errors import ConfigError
from moltbot.interfaces.transport import GatewayEndpoint, Transport
from moltbot.specs import BuildContext
from moltbot_tailscale.cli import Mode, NodeStatus, TailscaleCli, TailscaleError, funnel_not_permitted

HTTPS_PORT = 443
MARKER = "exposure.json"
State = Literal["off", "starting", "exposed", "stopped", "error"]


class TailscaleTransport(Transport):
    """Drives ``tailscale serve``/``tailscale funnel`` for the life of the gateway."""

    def __init__(
        self,
        *,
        mode: Literal["off", "serve", "funnel"],
        reset_on_exit: bool,
        state_dir: Path,
        cli: TailscaleCli | None = None,
        start_wait: float = 15.0,
    ) -> None:
        self.mode = mode
        self.reset_on_exit = reset_on_exit
        self.state_dir = state_dir
        self.cli = cli or TailscaleCli()
        self.start_wait = start_wait
        """Seconds to wait for a tailscaled that reports ``Starting`` (e.g. at boot)."""
        self._state: State = "off" if mode == "off" else "stopped"
        self._url = ""
        self._error = ""
        self._backend = ""

    @classmethod
    def from_context(cls, ctx: BuildContext) -> TailscaleTransport:
        """Settings come from ``gateway.tailscale`` (the seed's shape), not a plugin section."""
        config = ctx.settings.gateway.tailscale
        return cls(mode=config.mode, reset_on_exit=config.reset_on_exit, state_dir=ctx.state_dir)

    @property
    def marker(self) -> Path:
        return self.state_dir / MARKER

    async def run(
        self,
        endpoint: GatewayEndpoint,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            await self._start(endpoint)
        except (TailscaleError, ConfigError) as exc:
            self._state, self._error = "error", str(exc)
            raise
        task_status.started()
        try:
            await trio.sleep_forever()
        finally:
            if self.mode != "off":
                await self._stop()

    async def _start(self, endpoint: GatewayEndpoint) -> None:
        if self.mode == "off":
            if self.marker.exists():
                await self._undo_leftover(required=False)
            return
        if self.mode == "funnel" and endpoint.auth_mode != "password":
            # A config problem (exit 78), so that service managers do not restart into it.
            raise ConfigError(
                [
                    (
                        "gateway.tailscale.mode",
                        '"funnel" puts the gateway on the public internet and requires '
                        f'gateway.auth.mode = "password" (it is {endpoint.auth_mode!r}); set a strong '
                        'password (gateway.auth.password or $MOLTBOT_GATEWAY_PASSWORD) or use "serve"',
                    )
                ]
            )
        if self.mode == "serve" and endpoint.auth_mode == "none":
            logger.warning("tailscale serve exposes a gateway with auth mode none to the whole tailnet")
        self._state = "starting"
        node = await self._ready_node()
        if self.marker.exists():
            await self._undo_leftover(required=True)
        if not node.has("https"):
            raise TailscaleError(
                "HTTPS certificates are not enabled for this tailnet, which Serve and Funnel need; "
                "enable them in the admin console (https://tailscale.com/s/https)"
            )
        if self.mode == "funnel" and not node.has("funnel"):
            raise TailscaleError(funnel_not_permitted())
        if self.reset_on_exit:
            self._write_marker(self.mode)
        try:
            await self.cli.expose(self.mode, _target(endpoint), HTTPS_PORT)
        except BaseException:
            if self.reset_on_exit:
                with trio.CancelScope(shield=True):
                    await self._undo(self.mode)
            raise
        self._url = f"https://{node.dns_name}/" if node.dns_name else ""
        self._state = "exposed"
        self._error = ""
        logger.info("tailscale {} exposes the gateway at {}", self.mode, self._url or "(no MagicDNS name)")

    async def _ready_node(self) -> NodeStatus:
        deadline = trio.current_time() + self.start_wait
        while True:
            node = await self.cli.status()
            self._backend = node.backend_state
            if node.backend_state == "Running":
                return node
            if node.backend_state == "Starting" and trio.current_time() < deadline:
                await trio.sleep(0.5)
                continue
            raise TailscaleError(_not_ready(node.backend_state, node.auth_url))

    async def _undo_leftover(self, *, required: bool) -> None:
        try:
            left = json.loads(self.marker.read_text())
            mode: Mode = "funnel" if left.get("mode") == "funnel" else "serve"
        except (OSError, ValueError):
            mode = "funnel"  # unreadable marker: undo the wider exposure to be safe
        logger.warning("undoing the tailscale {} left by a previous run that did not shut down", mode)
        try:
            await self.cli.unexpose(mode, HTTPS_PORT)
        except TailscaleError as exc:
            if required:
                raise
            logger.warning("could not undo a previous tailscale exposure: {}", exc)
            return
        self.marker.unlink(missing_ok=True)

    async def _stop(self) -> None:
        if self._state != "exposed" or not self.reset_on_exit:
            if self._state == "exposed":
                self._state = "stopped"
            return
        with trio.CancelScope(shield=True):
            await self._undo(self.mode)  # type: ignore[arg-type]
        self._state = "stopped"

    async def _undo(self, mode: Mode) -> None:
        """Withdraw the exposure; on failure keep the marker so the next start retries."""
        with trio.move_on_after(self.cli.timeout * 2):
            try:
                await self.cli.unexpose(mode, HTTPS_PORT)
            except TailscaleError as exc:
                self._error = f"could not undo the exposure: {exc}"
                logger.error("tailscale: {}", self._error)
                return
            self.marker.unlink(missing_ok=True)
            logger.info("tailscale {} withdrawn", mode)

    def _write_marker(self, mode: str) -> None:
        record = {"mode": mode, "httpsPort": HTTPS_PORT, "since": datetime.now(UTC).isoformat()}
        atomic_write(self.marker, json.dumps(record).encode(), keep_backup=False)

    def status(self) -> dict[str, Any]:
        return {
            "transport": "tailscale",
            "mode": self.mode,
            "state": self._state,
            "public": self.mode == "funnel" and self._state == "exposed",
            "url": self._url,
            "resetOnExit": self.reset_on_exit,
            "backendState": self._backend,
            "error": self._error,
        }


def _target(endpoint: GatewayEndpoint) -> str:
    host = endpoint.host if endpoint.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https+insecure" if endpoint.tls else "http"
    return f"{scheme}://{host}:{endpoint.port}"


def _not_ready(state: str, auth_url: str) -> str:
    if state == "NeedsLogin":
        where = f" (or open {auth_url})" if auth_url else ""
        return f"tailscale is not logged in; run `sudo tailscale up`{where}, then start the gateway again"
    if state == "NeedsMachineAuth":
        return "this machine waits for approval in the Tailscale admin console; approve it and retry"
    if state in ("Stopped", "NoState", ""):
        return f"tailscale is not running (state {state or 'unknown'}); run `sudo tailscale up`"
    return f"tailscale is not ready (state {state}); check `tailscale status`"

"""A small async driver for the ``tailscale`` command line (Tailscale >= 1.52 serve/funnel syntax).

Every call is a real ``tailscale`` process run with :func:`trio.run_process` and a timeout, so a
prompt nobody answers cannot hang the gateway's start-up.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Literal

import trio

from moltbot.errors import MoltbotError

Mode = Literal["serve", "funnel"]
NO_FUNNEL_HELP = "https://tailscale.com/s/no-funnel"
_GONE_HINTS = ("does not exist", "not found", "no serve config", "nothing to")


class TailscaleError(MoltbotError):
    """Tailscale cannot expose the gateway; the message says what the operator must do."""


@dataclass(frozen=True)
class NodeStatus:
    """The parts of ``tailscale status --json`` the transport needs."""

    backend_state: str
    dns_name: str
    """MagicDNS name without the trailing dot, e.g. ``box.tail1234.ts.net``."""
    capabilities: frozenset[str]
    version: str = ""
    auth_url: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeStatus:
        me = data.get("Self") or {}
        caps: set[str] = set()
        for key in list(me.get("CapMap") or {}) + list(me.get("Capabilities") or []):
            caps.add(str(key).rsplit("/cap/", 1)[-1])
        return cls(
            backend_state=str(data.get("BackendState", "")),
            dns_name=str(me.get("DNSName", "")).rstrip("."),
            capabilities=frozenset(caps),
            version=str(data.get("Version", "")),
            auth_url=str(data.get("AuthURL", "")),
        )

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


class TailscaleCli:
    """Runs ``tailscale`` sub-commands; raises :class:`TailscaleError` with actionable text."""

    def __init__(self, executable: str = "tailscale", *, timeout: float = 30.0) -> None:
        self.executable = executable
        self.timeout = timeout

    async def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run ``tailscale <args>``; a non-zero exit is returned, not raised."""
        path = shutil.which(self.executable)
        if path is None:
            raise TailscaleError(
                f"tailscale is not installed (no {self.executable!r} on PATH); install it from "
                'https://tailscale.com/download, or set gateway.tailscale.mode to "off"'
            )
        try:
            with trio.fail_after(self.timeout):
                return await trio.run_process(
                    [path, *args], capture_stdout=True, capture_stderr=True, check=False
                )
        except trio.TooSlowError:
            raise TailscaleError(
                f"`tailscale {' '.join(args)}` did not finish within {self.timeout:.0f} s; "
                "run it by hand to see whether it waits for a prompt or a login"
            ) from None

    async def status(self) -> NodeStatus:
        """``tailscale status --json``, failing clearly when the daemon is down or logged out."""
        result = await self.run("status", "--json")
        try:
            data = json.loads(result.stdout)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            said = _said(result)
            if "tailscaled" in said or "not running" in said or "connect" in said:
                raise TailscaleError(
                    f"the tailscale daemon is not running ({said}); start it "
                    "(`sudo systemctl enable --now tailscaled`, or open the Tailscale app)"
                )
            raise TailscaleError(f"`tailscale status --json` failed: {said or 'no output'}")
        return NodeStatus.from_json(data)

    async def expose(self, mode: Mode, target: str, https_port: int = 443) -> None:
        """``tailscale serve|funnel --bg --yes --https=<port> <target>``."""
        result = await self.run(mode, "--bg", "--yes", f"--https={https_port}", target)
        if result.returncode != 0:
            said = _said(result)
            if "node attribute" in said or "Funnel not available" in said:
                raise TailscaleError(funnel_not_permitted(said))
            raise TailscaleError(f"`tailscale {mode}` failed: {said or f'exit {result.returncode}'}")

    async def unexpose(self, mode: Mode, https_port: int = 443) -> None:
        """Undo :meth:`expose`: Funnel off first (public access), then the Serve handler.

        ``tailscale funnel ... off`` only withdraws public access and keeps the tailnet
        handler, so both are turned off for funnel. An already-removed handler is not an error.
        """
        for sub in ("funnel", "serve") if mode == "funnel" else ("serve",):
            result = await self.run(sub, f"--https={https_port}", "off")
            said = _said(result)
            if result.returncode != 0 and not any(h in said.lower() for h in _GONE_HINTS):
                raise TailscaleError(f"`tailscale {sub} --https={https_port} off` failed: {said}")


def funnel_not_permitted(said: str = "") -> str:
    detail = f" (tailscale said: {said})" if said else ""
    return (
        "Tailscale Funnel is not permitted for this node: the tailnet policy does not grant the "
        f'"funnel" node attribute{detail}; add it in the admin console ({NO_FUNNEL_HELP}) or use '
        'gateway.tailscale.mode = "serve"'
    )


def _said(result: subprocess.CompletedProcess[bytes]) -> str:
    text = (result.stderr or b"").decode(errors="replace").strip()
    if not text:
        text = (result.stdout or b"").decode(errors="replace").strip()
    return text.removeprefix("error: ")

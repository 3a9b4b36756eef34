"""Who is connecting: the client address (forwarded headers only from trusted proxies) and
whether a browser ``Origin`` may open the WebSocket."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ForwardedError(ValueError):
    """Forwarded headers that must not be believed (untrusted sender or malformed)."""


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """``"10.0.0.1"`` or ``"10.0.0.0/8"`` entries of ``gateway.trustedProxies``."""
    return [ipaddress.ip_network(e.strip(), strict=False) for e in entries]


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text.strip().strip("[]"))


def is_loopback(address: str) -> bool:
    try:
        return _ip(address).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class NetPolicy:
    """Built from the gateway config; swapped as a whole on hot reload."""

    trusted: tuple[Network, ...]
    origins: frozenset[str]

    @classmethod
    def build(
        cls, *, port: int, tls: bool, trusted: Iterable[str], allowed_origins: Iterable[str]
    ) -> NetPolicy:
        scheme = "https" if tls else "http"
        own = {f"{scheme}://{host}:{port}" for host in ("127.0.0.1", "localhost", "[::1]")}
        return cls(tuple(parse_networks(trusted)), frozenset(own | {o.rstrip("/") for o in allowed_origins}))

    def _trusted(self, address: str) -> bool:
        try:
            ip = _ip(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def client_ip(self, peer: str, headers: Mapping[str, str]) -> str:
        """The address to rate-limit and log. ``X-Forwarded-For`` counts only when the direct
        peer is a trusted proxy (rightmost untrusted hop wins); from anyone else it is refused."""
        forwarded = headers.get("x-forwarded-for")
        if forwarded is None:
            return peer
        if not self._trusted(peer):
            raise ForwardedError(f"X-Forwarded-For from {peer}, which is not in gateway.trustedProxies")
        hops = [h.strip() for h in forwarded.split(",")]
        try:
            parsed = [str(_ip(h)) for h in hops]
        except ValueError:
            raise ForwardedError("malformed X-Forwarded-For header") from None
        for hop in reversed(parsed):
            if not self._trusted(hop):
                return hop
        return parsed[0]

    def origin_allowed(self, origin: str | None) -> bool:
        """No ``Origin`` (CLI, apps) is allowed; a browser origin must be listed."""
        if origin is None:
            return True
        return origin.rstrip("/") in self.origins

"""Shared-secret checks, the failed-auth limiter, and Ed25519 device proofs.

Secrets are compared as HMACs under a per-process key with :func:`hmac.compare_digest`, so
neither length nor content leaks through timing. The limiter takes a clock so tests drive it
with trio's ``MockClock``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import trio

from moltbot.gateway.protocol import ConnectParams, DeviceProof

_KEY = os.urandom(32)
SIGNATURE_SKEW_MS = 10 * 60 * 1000


def _mac(secret: str) -> bytes:
    return hmac.new(_KEY, secret.encode(), hashlib.sha256).digest()


def secrets_equal(given: str, expected: str) -> bool:
    """Constant-time equality of two secrets of any lengths."""
    return hmac.compare_digest(_mac(given), _mac(expected))


@dataclass(frozen=True)
class AuthFailure:
    """Why a ``connect`` was refused: ``counted`` failures feed the lockout limiter."""

    message: str
    detail_code: str
    counted: bool


def check_secret(mode: str, expected: str | None, params: ConnectParams) -> AuthFailure | None:
    """``None`` when the credentials match the configured auth mode."""
    if mode == "none":
        return None
    given = params.auth.token if mode == "token" else params.auth.password
    what = "token" if mode == "token" else "password"
    if not given:
        return AuthFailure(
            f"unauthorized: gateway {what} missing (set it from this gateway's gateway.auth.{what})",
            f"AUTH_{what.upper()}_MISSING",
            counted=False,
        )
    if expected is None or not secrets_equal(given, expected):
        return AuthFailure(
            f"unauthorized: gateway {what} mismatch (use this gateway's gateway.auth.{what})",
            f"AUTH_{what.upper()}_MISMATCH",
            counted=True,
        )
    return None


class AuthLimiter:
    """``max_failures`` within ``window`` seconds locks a key out for ``lockout`` seconds.

    Missing credentials are not failures; a success clears the key. At most ``max_entries``
    keys are remembered (oldest forgotten first), locked keys are kept preferentially.
    """

    def __init__(
        self,
        *,
        max_failures: int = 10,
        window: float = 60.0,
        lockout: float = 300.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = trio.current_time,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self.max_entries = max_entries
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: dict[str, float] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it is not locked out."""
        until = self._locked.get(key)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked[key]
            return 0.0
        return left

    def failure(self, key: str) -> None:
        now = self.clock()
        times = self._failures.pop(key, None) or deque()
        while times and now - times[0] > self.window:
            times.popleft()
        times.append(now)
        if len(times) >= self.max_failures:
            self._locked[key] = now + self.lockout
            times.clear()
        else:
            self._failures[key] = times
        while len(self._failures) > self.max_entries:
            self._failures.popitem(last=False)
        if len(self._locked) > self.max_entries:
            for stale in [k for k, until in self._locked.items() if until <= now]:
                del self._locked[stale]

    def success(self, key: str) -> None:
        self._failures.pop(key, None)


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def device_payloads(device: DeviceProof, params: ConnectParams, secret: str) -> list[str]:
    """The strings an OpenClaw client may have signed (v3 first, then v2)."""
    scopes = ",".join(params.scopes)
    common = [device.id, params.client.id, params.client.mode, params.role, scopes, str(device.signedAt)]
    platform = params.client.platform.strip().lower()
    family = (params.client.deviceFamily or "").strip().lower()
    return [
        "|".join(["v3", *common, secret, device.nonce, platform, family]),
        "|".join(["v2", *common, secret, device.nonce]),
    ]


def verify_device(params: ConnectParams, nonce: str, secret: str, now_ms: int | None = None) -> str | None:
    """Check the device proof; returns a reason when it is invalid, ``None`` when it holds."""
    from cryptography.exceptions import InvalidSignature  # only clients sending a device proof pay for it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    device = params.device
    assert device is not None
    try:
        raw = _b64url(device.publicKey)
        signature = _b64url(device.signature)
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error):
        return "device public key or signature is not valid base64url Ed25519"
    if hashlib.sha256(raw).hexdigest() != device.id:
        return "device id does not match its public key"
    if not hmac.compare_digest(device.nonce.encode(), nonce.encode()):
        return "device proof signs a different challenge nonce"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - device.signedAt) > SIGNATURE_SKEW_MS:
        return "device proof is too old or from the future"
    for payload in device_payloads(device, params, secret):
        try:
            key.verify(signature, payload.encode())
        except InvalidSignature:
            continue
        return None
    return "device signature does not verify"

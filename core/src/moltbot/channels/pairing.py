"""DM pairing: codes for unknown senders, and the store of senders the owner approved.

Files (0600, under ``<state>/credentials/``, as OpenClaw lays them out):
``<channel>-pairing.json`` holds pending requests, ``<channel>-allowFrom.json`` approved senders.
Every change happens under an ``fcntl`` lock on ``<channel>-pairing.lock`` and is written with
:func:`moltbot.config.store.atomic_write`, so the CLI (another process) and a running gateway
can both edit them; readers see the old or the new file, never a torn one. The gateway re-reads
the allow file whenever its mtime or size changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moltbot.config.store import atomic_write

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 symbols without the look-alikes 0/O and 1/I."""
CODE_LENGTH = 8
TTL_SECONDS = 3600.0
MAX_PENDING = 3
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def new_code() -> str:
    """A fresh code: 8 symbols drawn with :mod:`secrets` (about 2^40 possibilities)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What the owner typed, as stored: trimmed and upper-cased."""
    return code.strip().upper()


@dataclass(frozen=True)
class PairingRequest:
    """A pending request; ``created_at``/``last_seen_at`` are Unix seconds."""

    code: str
    sender: str
    created_at: float
    last_seen_at: float
    sender_name: str | None = None


@dataclass(frozen=True)
class PairingOutcome:
    """``code`` is empty when no code could be issued (too many pending requests)."""

    code: str
    created: bool


class PairingStore:
    """Pending requests and approved senders of one channel."""

    def __init__(
        self, credentials_dir: Path, channel: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not _NAME_RE.match(channel):
            raise ValueError(f"channel name {channel!r} must be lowercase letters, digits, '_' or '-'")
        self.channel = channel
        self.dir = credentials_dir
        self.pending_path = credentials_dir / f"{channel}-pairing.json"
        self.allow_path = credentials_dir / f"{channel}-allowFrom.json"
        self._lock_path = credentials_dir / f"{channel}-pairing.lock"
        self.clock = clock
        self._allow_cache: tuple[tuple[int, int, int], frozenset[str]] | None = None

    # ------------------------------------------------------------ files

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, path: Path, key: str) -> list[Any]:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); fix or remove it") from None
        items = data.get(key) if isinstance(data, dict) else None
        return items if isinstance(items, list) else []

    def _write(self, path: Path, key: str, items: list[Any]) -> None:
        body = json.dumps({"version": 1, key: items}, indent=2, ensure_ascii=False) + "\n"
        atomic_write(path, body.encode(), keep_backup=False)

    def _pending(self) -> list[PairingRequest]:
        now = self.clock()
        live = []
        for item in self._read(self.pending_path, "requests"):
            try:
                request = PairingRequest(**item)
            except TypeError:
                continue  # a garbled row counts as expired
            if now - request.created_at < TTL_SECONDS:
                live.append(request)
        return live

    def _save_pending(self, requests: list[PairingRequest]) -> None:
        self._write(self.pending_path, "requests", [asdict(r) for r in requests])

    # ------------------------------------------------------------ operations

    def request(self, sender: str, sender_name: str | None = None) -> PairingOutcome:
        """The code for ``sender``: ``created`` only for a new request (the bot replies then)."""
        with self._locked():
            pending = self._pending()
            now = self.clock()
            for i, existing in enumerate(pending):
                if existing.sender == sender:
                    pending[i] = PairingRequest(
                        existing.code, sender, existing.created_at, now, existing.sender_name
                    )
                    self._save_pending(pending)
                    return PairingOutcome(existing.code, created=False)
            if len(pending) >= MAX_PENDING:
                return PairingOutcome("", created=False)
            taken = {r.code for r in pending}
            code = new_code()
            while code in taken:
                code = new_code()
            pending.append(PairingRequest(code, sender, now, now, sender_name))
            self._save_pending(pending)
            return PairingOutcome(code, created=True)

    def list_pending(self) -> list[PairingRequest]:
        with self._locked():
            return self._pending()

    def approve(self, code: str) -> PairingRequest | None:
        """Move the request with ``code`` into the allow store; None when no such live code."""
        wanted = normalize_code(code)
        with self._locked():
            pending = self._pending()
            match = next((r for r in pending if r.code == wanted), None)
            if match is None:
                return None
            allowed = [s for s in self._read(self.allow_path, "allowFrom") if isinstance(s, str)]
            if match.sender not in allowed:
                allowed.append(match.sender)
            self._write(self.allow_path, "allowFrom", allowed)
            self._save_pending([r for r in pending if r is not match])
            return match

    def reject(self, code: str) -> PairingRequest | None:
        """Drop the request with ``code``; the sender may ask again later."""
        wanted = normalize_code(code)
        with self._locked():
            pending = self._pending()
            match = next((r for r in pending if r.code == wanted), None)
            if match is not None:
                self._save_pending([r for r in pending if r is not match])
            return match

    def revoke(self, sender: str) -> bool:
        """Remove ``sender`` from the allow store."""
        with self._locked():
            allowed = [s for s in self._read(self.allow_path, "allowFrom") if isinstance(s, str)]
            if sender not in allowed:
                return False
            self._write(self.allow_path, "allowFrom", [s for s in allowed if s != sender])
            return True

    def allowed(self) -> frozenset[str]:
        """Approved senders, re-read when the file changed (CLI approvals apply at once)."""
        try:
            st = self.allow_path.stat()
        except FileNotFoundError:
            return frozenset()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._allow_cache is None or self._allow_cache[0] != stamp:
            items = self._read(self.allow_path, "allowFrom")
            self._allow_cache = (stamp, frozenset(s for s in items if isinstance(s, str)))
        return self._allow_cache[1]

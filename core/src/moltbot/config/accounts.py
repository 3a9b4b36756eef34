"""Channel accounts: one ``channels.<name>`` section can run several accounts of a service.

``channels.telegram = {dmPolicy: "pairing", accounts: {personal: {botToken: ...}, work: {...}}}``
runs two bots. Keys outside ``accounts`` are shared defaults that each account may override.
Without ``accounts`` the section itself is the one account, called ``default``.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_ACCOUNT = "default"
ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def account_sections(section: Any) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    """The merged raw section of every account, by account id, and the problems found
    (as ``(relative path, message)`` pairs, e.g. ``("accounts.Work", "...")``)."""
    raw = dict(section) if isinstance(section, dict) else {}
    accounts = raw.pop("accounts", None)
    if accounts is None or accounts == {}:
        return {DEFAULT_ACCOUNT: raw}, []
    if not isinstance(accounts, dict):
        return {}, [("accounts", "must be an object of account id → settings, e.g. {work: {...}}")]
    merged: dict[str, dict[str, Any]] = {}
    problems: list[tuple[str, str]] = []
    for account, override in accounts.items():
        if not ACCOUNT_ID.match(account):
            problems.append(
                (f"accounts.{account}", "account ids are lower-case letters, digits, '-' and '_' (max 64)")
            )
        elif not isinstance(override, dict):
            problems.append((f"accounts.{account}", "must be an object of settings for this account"))
        elif "accounts" in override:
            problems.append((f"accounts.{account}.accounts", "accounts cannot be nested; remove this key"))
        else:
            merged[account] = {**raw, **override}
    return merged, problems


def account_path(channel: str, account: str, *, multi: bool) -> str:
    """Where an account's settings live, for error messages."""
    return f"channels.{channel}.accounts.{account}" if multi else f"channels.{channel}"

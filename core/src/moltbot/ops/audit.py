"""``moltbot security audit``: configuration checks with OpenClaw-compatible ids where one exists.

Settings are read defensively (sections another workstream has not added yet, like ``tools``,
are simply absent). Severities: ``critical`` = exploitable as configured; ``warn`` = weaker than
the shipped defaults; ``info`` = worth knowing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from moltbot.config import read_raw, write_config
from moltbot.config.store import set_path
from moltbot.ops import fsperms
from moltbot.ops.context import OpsContext
from moltbot.ops.credentials import SECRET_NAME
from moltbot.ops.findings import Finding

MIN_PASSWORD = 12
MIN_TOKEN = 24
_ENV_REF = re.compile(r"^\s*\$\{[A-Z_][A-Z0-9_]*\}\s*$")
_NOT_SECRET = re.compile(r"(?i)(path|file|env|mode)$")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_SAFE_DM = ("pairing", "allowlist", "disabled")


def _exposed(ctx: OpsContext) -> bool:
    bind = ctx.get("gateway.bind", "loopback")
    custom = ctx.get("gateway.customBindHost") or ""
    return (
        bind == "lan"
        or (bind == "custom" and custom not in _LOOPBACK_HOSTS)
        or (ctx.get("gateway.tailscale.mode", "off") == "funnel")
    )


def auth_findings(ctx: OpsContext) -> list[Finding]:
    mode = ctx.get("gateway.auth.mode", "token")
    password = ctx.get("gateway.auth.password") or ""
    token = ctx.get("gateway.auth.token") or ""
    bind = ctx.get("gateway.bind", "loopback")
    found: list[Finding] = []
    if mode == "none":
        fid = "gateway.bind_no_auth" if _exposed(ctx) else "gateway.loopback_no_auth"
        found.append(
            Finding(
                fid,
                "critical",
                "gateway authentication is disabled",
                f"gateway.auth.mode is 'none' (bind {bind!r}); any local or network client "
                "gets operator access",
                "set gateway.auth.mode to 'password' or 'token'",
            )
        )
    if mode == "password" and password and len(password) < MIN_PASSWORD:
        found.append(
            Finding(
                "gateway.password_too_short",
                "warn",
                "the gateway password is short",
                f"{len(password)} characters (< {MIN_PASSWORD})",
                f"use at least {MIN_PASSWORD} random characters (moltbot config template --secure)",
            )
        )
    if mode == "token" and token and len(token) < MIN_TOKEN:
        found.append(
            Finding(
                "gateway.token_too_short",
                "warn",
                "the gateway token is short",
                f"{len(token)} characters (< {MIN_TOKEN})",
                "generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        )
    weak = (mode == "password" and len(password) < MIN_PASSWORD) or (
        mode == "token" and len(token) < MIN_TOKEN
    )
    if mode != "none" and _exposed(ctx) and weak:
        found.append(
            Finding(
                "gateway.bind_weak_auth",
                "critical",
                "the gateway is reachable from the network with a weak or missing secret",
                f"bind {bind!r} with {mode} auth of {len(password if mode == 'password' else token)}"
                " characters",
                "use a long random secret, or bind 'loopback' behind Tailscale serve",
            )
        )
    return found


def exposure_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    tailscale = ctx.get("gateway.tailscale.mode", "off")
    if tailscale == "funnel" and ctx.get("gateway.auth.mode") != "password":
        found.append(
            Finding(
                "gateway.tailscale_funnel_no_password",
                "critical",
                "Tailscale Funnel exposes the gateway publicly without password auth",
                f"gateway.tailscale.mode is 'funnel' and gateway.auth.mode is "
                f"{ctx.get('gateway.auth.mode')!r}",
                "set gateway.auth.mode to 'password' with a long password, or use 'serve' (tailnet only)",
            )
        )
    elif tailscale == "funnel":
        found.append(
            Finding(
                "gateway.tailscale_funnel",
                "warn",
                "the gateway is on the public internet via Tailscale Funnel",
                "password auth is on",
                "prefer 'serve' unless you need public access",
            )
        )
    elif tailscale == "serve":
        found.append(
            Finding(
                "gateway.tailscale_serve",
                "info",
                "the gateway is shared on the tailnet",
                "gateway.tailscale.mode is 'serve'",
                "",
            )
        )
    origins = ctx.get("gateway.controlUi.allowedOrigins") or []
    if "*" in origins:
        found.append(
            Finding(
                "gateway.control_ui.allowed_origins_wildcard",
                "critical" if _exposed(ctx) else "warn",
                "any web page may open the gateway WebSocket",
                "gateway.controlUi.allowedOrigins contains '*'",
                "list the exact origins (https://host:port)",
            )
        )
    plain = [
        o
        for o in origins
        if o != "*" and urlsplit(o).scheme == "http" and (urlsplit(o).hostname or "") not in _LOOPBACK_HOSTS
    ]
    if plain:
        found.append(
            Finding(
                "gateway.control_ui.allowed_origins_http",
                "warn",
                "Control UI origins over plain http on the network",
                ", ".join(plain),
                "serve the UI over https (gateway.ssl or Tailscale serve)",
                data={"origins": plain},
            )
        )
    return found


def channel_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    for name, section in sorted(ctx.channels().items()):
        if not isinstance(section, dict) or section.get("enabled") is False:
            continue
        policy = section.get("dmPolicy", "pairing")
        if policy == "open":
            found.append(
                Finding(
                    "channels.dm_open",
                    "critical",
                    f"anyone can DM the bot on {name}",
                    f"channels.{name}.dmPolicy is 'open': strangers can drive the agent and its tools",
                    f"set channels.{name}.dmPolicy to 'pairing'",
                    data={"channel": name},
                )
            )
        if name == "whatsapp" and policy not in ("pairing", "disabled"):
            found.append(
                Finding(
                    "channels.whatsapp.dm_policy_not_pairing",
                    "warn",
                    "WhatsApp DM policy is not pairing",
                    f"dmPolicy is {policy!r}",
                    "set channels.whatsapp.dmPolicy to 'pairing' to keep spam out",
                )
            )
    return found


def _exec_allowed(ctx: OpsContext) -> bool:
    exec_cfg = ctx.get("tools.exec")
    if isinstance(exec_cfg, dict) and (
        exec_cfg.get("enabled") is False or exec_cfg.get("security") == "deny"
    ):
        return False
    deny = ctx.get("tools.deny") or []
    return "exec" not in deny


def sandbox_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    mode = ctx.get("agents.defaults.sandbox.mode", "non-main")
    open_dm = any(isinstance(s, dict) and s.get("dmPolicy") == "open" for s in ctx.channels().values())
    if mode not in ("non-main", "all"):
        found.append(
            Finding(
                "sandbox.mode_off",
                "warn",
                "sandboxing is off",
                f"agents.defaults.sandbox.mode is {mode!r}",
                "set agents.defaults.sandbox.mode to 'non-main' (or 'all')",
            )
        )
        if _exec_allowed(ctx):
            found.append(
                Finding(
                    "tools.exec.no_sandbox",
                    "critical" if open_dm else "warn",
                    "the exec tool runs commands on the host unsandboxed",
                    "sandbox mode is off and exec is not denied",
                    "turn the sandbox on, or add 'exec' to tools.deny",
                )
            )
    if ctx.get("tools.exec.security") == "full":
        found.append(
            Finding(
                "tools.exec.security_full_configured",
                "critical" if open_dm else "warn",
                "exec runs any command without approval",
                "tools.exec.security is 'full'",
                "use 'allowlist' with approvals",
            )
        )
    return found


def _secret_paths(data: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            secret_key = SECRET_NAME.search(str(key)) and not _NOT_SECRET.search(str(key))
            if isinstance(value, str) and secret_key and value and not _ENV_REF.match(value):
                yield path, value
            else:
                yield from _secret_paths(value, path)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _secret_paths(value, f"{where}[{i}]")


_NAMED_SECRETS = {
    "gateway.auth.password": ("config.secrets.gateway_password_in_config", "MOLTBOT_GATEWAY_PASSWORD"),
    "gateway.auth.token": ("config.secrets.gateway_token_in_config", "MOLTBOT_GATEWAY_TOKEN"),
}


def secret_findings(ctx: OpsContext) -> list[Finding]:
    found: list[Finding] = []
    others: list[str] = []
    for path, _value in _secret_paths(ctx.raw):
        if path in _NAMED_SECRETS:
            fid, var = _NAMED_SECRETS[path]
            found.append(
                Finding(
                    fid,
                    "warn",
                    f"{path} is written in the config file",
                    f"{ctx.paths.config_path} holds the secret itself",
                    f"remove it and set {var} in the gateway's environment (or write "
                    f'"${{{var}}}"), e.g. in a 0600 env file',
                    data={"path": path},
                )
            )
        else:
            others.append(path)
    if others:
        found.append(
            Finding(
                "config.secrets.in_config",
                "warn",
                "secrets are written in the config file",
                ", ".join(others),
                "replace each with a ${ENV_VAR} reference",
                data={"paths": others},
            )
        )
    return found


def _set_config(path: Path, key: str, value: Any) -> Callable[[], str]:
    def fix() -> str:
        write_config(path, set_path(read_raw(path), key, value))
        return f"set {key} = {value!r} in {path} (previous file kept as .bak)"

    return fix


def logging_findings(ctx: OpsContext) -> list[Finding]:
    if ctx.get("logging.redactSensitive", True) is not False:
        return []
    return [
        Finding(
            "logging.redact_off",
            "warn",
            "secrets are not redacted from logs",
            "logging.redactSensitive is false",
            "set logging.redactSensitive to true",
            fix=_set_config(ctx.paths.config_path, "logging.redactSensitive", True),
        )
    ]


def audit_findings(ctx: OpsContext) -> list[Finding]:
    from moltbot.ops.audit_plugins import plugin_source_findings

    return [
        *auth_findings(ctx),
        *exposure_findings(ctx),
        *channel_findings(ctx),
        *sandbox_findings(ctx),
        *secret_findings(ctx),
        *logging_findings(ctx),
        *fsperms.permission_findings(ctx.state_dir, ctx.paths.config_path),
        *plugin_source_findings(ctx),
    ]

"""The seed's ``ConfigBestPractices``: a performance config sized for this machine, and a
secure starting template. Both print JSON5 whose values validate against the config schema."""

from __future__ import annotations

import json
import secrets
from typing import Any

from moltbot.ops.sysinfo import SystemInfo

MB = 1024**2


def suggest_performance(info: SystemInfo, *, production: bool) -> dict[str, Any]:
    """The seed's numbers, bounded by this machine: concurrent runs by CPUs and by memory (one run
    ~256 MB, half the RAM at most), the agents' memory limit by a quarter of the RAM."""
    total_mb = info.total_memory // MB
    seed_runs, seed_memory = (5, 1024) if production else (2, 512)
    memory_limit = max(128, min(seed_memory, total_mb // 4))
    runs = max(1, min(seed_runs, info.cpu_count, (total_mb // 2) // 256))
    return {
        "performance": {
            "gateway": {
                "maxConnections": 100 if production else 10,
                "requestTimeout": 30000,
                "rateLimiting": {
                    "enabled": production,
                    "requestsPerMinute": 1000 if production else 100,
                    "burstSize": 100 if production else 10,
                },
            },
            "agents": {
                "maxConcurrentRuns": runs,
                "sessionCacheSize": 100 if production else 10,
                "memoryLimit": memory_limit,
                "gcThreshold": memory_limit * 3 // 4,
            },
            "tools": {"exec": {"maxProcesses": max(1, min(4, info.cpu_count)), "sandbox": True}},
        }
    }


def render_suggestion(info: SystemInfo, *, production: bool) -> str:
    head = (
        f"// {'production' if production else 'development'} settings for this machine: "
        f"{info.cpu_count} CPUs, {info.total_memory / 1024**3:.1f} GB RAM\n"
        "// merge into your config (moltbot config set performance.agents.maxConcurrentRuns N, ...)\n"
    )
    return head + json.dumps(suggest_performance(info, production=production), indent=2) + "\n"


def secure_template(password: str | None = None) -> tuple[dict[str, Any], str]:
    """The seed's secure template, adapted: the password is an ``${ENV}`` reference and a fresh
    random value is returned alongside for the user to put in the environment."""
    password = password or secrets.token_urlsafe(24)
    template = {
        "agent": {"model": "anthropic/claude-3-5-sonnet-20241022"},
        "gateway": {
            "port": 18789,
            "bind": "loopback",
            "auth": {"mode": "password", "password": "${MOLTBOT_GATEWAY_PASSWORD}"},
            "controlUi": {"enabled": True, "allowedOrigins": []},
            "ssl": {
                "enabled": False,
                "certPath": "/path/to/certificate.pem",
                "keyPath": "/path/to/private-key.pem",
            },
        },
        "channels": {"whatsapp": {"dmPolicy": "pairing", "allowFrom": []}},
        "agents": {
            "defaults": {
                "sandbox": {
                    "mode": "non-main",
                    "allowlist": ["read", "write", "edit", "sessions_list"],
                    "denylist": ["browser", "nodes", "gateway", "exec"],
                }
            }
        },
        "logging": {"redactSensitive": True},
    }
    return template, password


def render_template(password: str | None = None) -> str:
    template, password = secure_template(password)
    head = (
        "// moltbot secure configuration template. Secrets stay out of this file:\n"
        "// put this freshly generated password in the gateway's environment (a 0600 env file\n"
        "// or your service manager's secret store), never in the config:\n"
        f"//   export MOLTBOT_GATEWAY_PASSWORD='{password}'\n"
        "// likewise for model keys: export ANTHROPIC_API_KEY=... / OPENAI_API_KEY=...\n"
        "// TLS: on a loopback bind it is not needed; set gateway.ssl.enabled with real paths (or use\n"
        "// Tailscale serve) before binding 'lan'. The whatsapp section needs moltbot-whatsapp installed.\n"
    )
    return head + json.dumps(template, indent=2) + "\n"

"""``python -m moltbot.daemon.healthcheck``: the container HEALTHCHECK (exit 0 when the gateway's
``/healthz`` answers 200). Uses only the standard library so it stays cheap every 30 s."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    port = os.environ.get("MOLTBOT_GATEWAY_PORT") or os.environ.get("CLAWDBOT_GATEWAY_PORT") or "18789"
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

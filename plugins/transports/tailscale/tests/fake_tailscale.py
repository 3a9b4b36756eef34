"""A stand-in for the ``tailscale`` CLI (1.52+ syntax), installed first on PATH by the tests.

State lives in ``$FAKE_TAILSCALE_STATE`` (JSON); every invocation's argv is appended to
``calls.jsonl`` next to it. It emulates ``status --json`` (with the real field names), the
serve/funnel set, ``off``, ``reset`` and ``status --json`` commands, and the failure modes: daemon
down, logged out, and Funnel not permitted by the tailnet policy.
"""

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_TAILSCALE_STATE"])


def main(argv: list[str]) -> int:
    state = json.loads(STATE.read_text())
    with (STATE.parent / "calls.jsonl").open("a") as log:
        log.write(json.dumps(argv) + "\n")
    if state.get("daemon") == "down":
        print(
            "failed to connect to local tailscaled; it doesn't appear to be running "
            "(sudo systemctl start tailscaled ?)",
            file=sys.stderr,
        )
        return 1
    try:
        if argv[:2] == ["status", "--json"]:
            return status(state)
        if argv and argv[0] in ("serve", "funnel"):
            return serve(state, argv[0], argv[1:])
        print(f"fake tailscale: unsupported {argv}", file=sys.stderr)
        return 2
    finally:
        STATE.write_text(json.dumps(state))


def status(state: dict) -> int:
    backend = state.get("backendState", "Running")
    if state.get("startingFor", 0) > 0:
        state["startingFor"] -= 1
        backend = "Starting"
    me = {
        "ID": "n1",
        "HostName": "box",
        "DNSName": "box.tail1234.ts.net.",
        "TailscaleIPs": ["100.101.102.103"],
        "Online": backend == "Running",
        "CapMap": {cap: None for cap in state.get("caps", ["https", "funnel"])},
    }
    doc = {
        "Version": "1.76.6-fake",
        "BackendState": backend,
        "AuthURL": "https://login.tailscale.com/a/fake" if backend == "NeedsLogin" else "",
        "TailscaleIPs": me["TailscaleIPs"] if backend == "Running" else [],
        "Self": me if backend != "NeedsLogin" else {"DNSName": "", "HostName": "box"},
        "MagicDNSSuffix": "tail1234.ts.net",
    }
    print(json.dumps(doc, indent=2))
    return 0


def serve(state: dict, cmd: str, args: list[str]) -> int:
    web: dict = state.setdefault("web", {})
    funnel: list = state.setdefault("allowFunnel", [])
    if args == ["reset"]:
        web.clear()
        funnel.clear()
        return 0
    if args[:2] == ["status", "--json"]:
        host = "box.tail1234.ts.net"
        print(
            json.dumps(
                {
                    "TCP": {p: {"HTTPS": True} for p in web},
                    "Web": {f"{host}:{p}": {"Handlers": {"/": {"Proxy": t}}} for p, t in web.items()},
                    "AllowFunnel": {f"{host}:{p}": True for p in funnel},
                }
            )
        )
        return 0
    port, rest = "443", []
    for arg in args:
        if arg.startswith("--https="):
            port = arg.split("=", 1)[1]
        elif arg not in ("--bg", "--yes"):
            rest.append(arg)
    if state.get("backendState", "Running") != "Running":
        print("error: tailscale is not running", file=sys.stderr)
        return 1
    if rest == ["off"]:
        if cmd == "funnel":
            if port in funnel:
                funnel.remove(port)
            return 0
        if port not in web:
            print("error: failed to remove web serve: handler does not exist", file=sys.stderr)
            return 1
        del web[port]
        if port in funnel:
            funnel.remove(port)
        return 0
    if len(rest) != 1:
        print(f"error: invalid arguments {args}", file=sys.stderr)
        return 1
    caps = state.get("caps", ["https", "funnel"])
    if cmd == "funnel" and "funnel" not in caps:
        print(
            'error: Funnel not available; "funnel" node attribute not set. '
            "See https://tailscale.com/s/no-funnel.",
            file=sys.stderr,
        )
        return 1
    if "--bg" not in args:
        print("error: foreground mode would block; the tests expect --bg", file=sys.stderr)
        return 1
    web[port] = rest[0]
    if cmd == "funnel" and port not in funnel:
        funnel.append(port)
    print(f"Available {'on the internet' if cmd == 'funnel' else 'within your tailnet'}:")
    print(f"https://box.tail1234.ts.net/\n|-- proxy {rest[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

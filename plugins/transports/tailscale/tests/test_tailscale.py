"""The tailscale transport against a fake ``tailscale`` executable that records its arguments."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
from moltbot_tailscale.cli import TailscaleError
from moltbot_tailscale.transport import TailscaleTransport

from moltbot import GatewayEndpoint
from moltbot.config import Settings
from moltbot.errors import ConfigError
from moltbot.testing import build_context, make_plugins
from moltbot.testing.conformance import TransportConformance, TransportHarness

FAKE = Path(__file__).with_name("fake_tailscale.py")
LOOPBACK = GatewayEndpoint(host="127.0.0.1", port=18789, tls=False, auth_mode="token")
PASSWORD = GatewayEndpoint(host="127.0.0.1", port=18789, tls=False, auth_mode="password")


@dataclass
class Fake:
    """The fake CLI's state file and the argv of every call it received."""

    state_path: Path

    def set(self, **values: Any) -> None:
        state = json.loads(self.state_path.read_text())
        state.update(values)
        self.state_path.write_text(json.dumps(state))

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_path.read_text())

    def calls(self) -> list[list[str]]:
        log = self.state_path.parent / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def mutations(self) -> list[list[str]]:
        return [c for c in self.calls() if c[0] in ("serve", "funnel")]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "tailscale"
    exe.write_text(f"#!{sys.executable}\n" + FAKE.read_text())
    exe.chmod(0o755)
    state = tmp_path / "fake" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"backendState": "Running", "caps": ["https", "funnel"]}))
    monkeypatch.setenv("FAKE_TAILSCALE_STATE", str(state))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return Fake(state)


def transport(tmp_path: Path, mode: str = "serve", reset_on_exit: bool = True) -> TailscaleTransport:
    settings = Settings.model_validate(
        {"gateway": {"tailscale": {"mode": mode, "resetOnExit": reset_on_exit}}}
    )
    return TailscaleTransport.from_context(build_context(tmp_path, "tailscale", settings))


async def start_and_stop(t: TailscaleTransport, endpoint: GatewayEndpoint = LOOPBACK) -> dict[str, Any]:
    async with trio.open_nursery() as nursery:
        await nursery.start(t.run, endpoint)
        during = t.status()
        nursery.cancel_scope.cancel()
    return during


async def start_expecting(
    t: TailscaleTransport, endpoint: GatewayEndpoint = LOOPBACK, error: type[Exception] = TailscaleError
) -> str:
    with pytest.raises(error) as info, trio.fail_after(10):
        await t.run(endpoint)  # fails before started(), so it returns by raising
    assert t.status()["state"] == "error"
    return str(info.value)


class TestTailscaleConformance(TransportConformance):
    @pytest.fixture
    async def transport_harness(self, tmp_path: Path, fake: Fake) -> TransportHarness:
        async def exposed() -> bool:
            return "443" in fake.state().get("web", {})

        return TransportHarness(transport=transport(tmp_path), endpoint=LOOPBACK, exposed=exposed)


def test_plugin_registers_the_transport() -> None:
    import moltbot_tailscale

    plugins = make_plugins(moltbot_tailscale.moltbot_register_transports)
    assert "tailscale" in plugins.transports()


async def test_serve_proxies_to_loopback_and_resets_on_exit(tmp_path: Path, fake: Fake) -> None:
    t = transport(tmp_path)
    during = await start_and_stop(t)
    assert during["state"] == "exposed" and during["url"] == "https://box.tail1234.ts.net/"
    assert during["public"] is False
    assert fake.mutations() == [
        ["serve", "--bg", "--yes", "--https=443", "http://127.0.0.1:18789"],
        ["serve", "--https=443", "off"],
    ]
    assert fake.state()["web"] == {}
    assert not t.marker.exists()
    assert t.status()["state"] == "stopped"


async def test_a_gateway_on_all_interfaces_is_still_proxied_over_loopback(tmp_path: Path, fake: Fake) -> None:
    await start_and_stop(
        transport(tmp_path), GatewayEndpoint(host="0.0.0.0", port=9, tls=True, auth_mode="token")
    )
    assert fake.mutations()[0][-1] == "https+insecure://127.0.0.1:9"


async def test_without_reset_on_exit_the_exposure_stays(tmp_path: Path, fake: Fake) -> None:
    t = transport(tmp_path, reset_on_exit=False)
    await start_and_stop(t)
    assert fake.state()["web"] == {"443": "http://127.0.0.1:18789"}
    assert not t.marker.exists()


async def test_funnel_needs_password_auth_as_a_config_error_and_calls_nothing(
    tmp_path: Path, fake: Fake
) -> None:
    message = await start_expecting(transport(tmp_path, "funnel"), LOOPBACK, ConfigError)
    assert "gateway.tailscale.mode" in message and 'requires gateway.auth.mode = "password"' in message
    assert fake.calls() == []


async def test_funnel_with_password_is_public_and_fully_withdrawn(tmp_path: Path, fake: Fake) -> None:
    t = transport(tmp_path, "funnel")
    during = await start_and_stop(t, PASSWORD)
    assert during["public"] is True
    assert fake.mutations() == [
        ["funnel", "--bg", "--yes", "--https=443", "http://127.0.0.1:18789"],
        ["funnel", "--https=443", "off"],
        ["serve", "--https=443", "off"],
    ]
    assert fake.state()["web"] == {} and fake.state()["allowFunnel"] == []


async def test_funnel_not_permitted_by_policy(tmp_path: Path, fake: Fake) -> None:
    fake.set(caps=["https"])
    message = await start_expecting(transport(tmp_path, "funnel"), PASSWORD)
    assert '"funnel" node attribute' in message and "tailscale.com/s/no-funnel" in message
    assert fake.mutations() == []


async def test_funnel_refused_by_the_cli_is_explained_and_cleaned_up(tmp_path: Path, fake: Fake) -> None:
    # The node map said funnel was allowed, but the CLI refuses (policy changed meanwhile).
    fake.set(caps=["https", "funnel"])
    t = transport(tmp_path, "funnel")
    original = t.cli.run

    async def refusing(*args: str) -> Any:
        if args[0] == "funnel" and "off" not in args:
            fake.set(caps=["https"])
        return await original(*args)

    t.cli.run = refusing  # type: ignore[method-assign]
    message = await start_expecting(t, PASSWORD)
    assert "not permitted" in message
    assert not t.marker.exists()


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ({"daemon": "down"}, "daemon is not running"),
        ({"backendState": "NeedsLogin"}, "not logged in"),
        ({"backendState": "Stopped"}, "tailscale is not running"),
        ({"caps": []}, "HTTPS certificates are not enabled"),
    ],
)
async def test_unready_tailscale_is_a_clear_error(
    tmp_path: Path, fake: Fake, setup: dict, expected: str
) -> None:
    fake.set(**setup)
    message = await start_expecting(transport(tmp_path))
    assert expected in message
    assert fake.mutations() == []


async def test_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    message = await start_expecting(transport(tmp_path))
    assert "not installed" in message and "tailscale.com/download" in message


async def test_waits_for_a_starting_daemon(tmp_path: Path, fake: Fake) -> None:
    fake.set(startingFor=1)
    during = await start_and_stop(transport(tmp_path))
    assert during["state"] == "exposed"
    assert [c for c in fake.calls() if c[0] == "status"] == [["status", "--json"]] * 2


async def test_exposure_left_by_a_crash_is_undone_before_exposing_again(tmp_path: Path, fake: Fake) -> None:
    crashed = transport(tmp_path, "funnel")
    async with trio.open_nursery() as nursery:
        await nursery.start(crashed.run, PASSWORD)
        nursery.cancel_scope.cancel()
        crashed.reset_on_exit = False  # emulate a kill -9: no cleanup runs
        crashed._write_marker("funnel")
    assert crashed.marker.exists() and fake.state()["allowFunnel"] == ["443"]

    restarted = transport(tmp_path, "serve")
    await start_and_stop(restarted)
    assert fake.mutations()[1:] == [
        ["funnel", "--https=443", "off"],
        ["serve", "--https=443", "off"],
        ["serve", "--bg", "--yes", "--https=443", "http://127.0.0.1:18789"],
        ["serve", "--https=443", "off"],
    ]
    assert not restarted.marker.exists() and fake.state()["allowFunnel"] == []


async def test_mode_off_still_cleans_a_leftover(tmp_path: Path, fake: Fake) -> None:
    t = transport(tmp_path, "off")
    t._write_marker("serve")
    fake.set(web={"443": "http://127.0.0.1:18789"})
    during = await start_and_stop(t)
    assert during["state"] == "off"
    assert fake.state()["web"] == {} and not t.marker.exists()

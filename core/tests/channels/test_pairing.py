"""Pairing codes and stores (security tests T20-T22)."""

import multiprocessing
import secrets
from collections import Counter
from pathlib import Path

import pytest

from moltbot.channels import pairing
from moltbot.channels.pairing import ALPHABET, PairingStore, new_code


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_codes_use_the_alphabet_uniformly(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = secrets.choice
    monkeypatch.setattr(pairing.secrets, "choice", lambda seq: calls.append(seq) or real(seq))
    codes = [new_code() for _ in range(10_000)]
    assert len(calls) == 80_000 and all(c == ALPHABET for c in calls)
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert len(ALPHABET) == 32 and not set("0O1I") & set(ALPHABET)
    counts = Counter("".join(codes))
    expected = 80_000 / 32
    chi2 = sum((counts[s] - expected) ** 2 / expected for s in ALPHABET)
    assert chi2 < 70  # 31 degrees of freedom; p < 0.0002 if exceeded


def test_lifecycle(tmp_path: Path) -> None:
    clock = Clock()
    store = PairingStore(tmp_path, "telegram", clock=clock)
    first = store.request("111")
    assert first.created and len(first.code) == 8
    again = store.request("111")
    assert again == pairing.PairingOutcome(first.code, created=False)
    assert store.approve(f"  {first.code.lower()} ").sender == "111"
    assert store.approve(first.code) is None
    assert store.allowed() == frozenset({"111"})
    late = store.request("222")
    clock.now += 61 * 60
    assert store.approve(late.code) is None
    assert store.list_pending() == []


def test_at_most_three_pending(tmp_path: Path) -> None:
    store = PairingStore(tmp_path, "whatsapp")
    codes = [store.request(s).code for s in ("a", "b", "c")]
    assert len(set(codes)) == 3
    assert store.request("d") == pairing.PairingOutcome("", created=False)
    assert store.reject(codes[0]).sender == "a"
    assert store.request("d").created


def test_allow_store_changes_are_seen_without_restart(tmp_path: Path) -> None:
    gateway_view = PairingStore(tmp_path, "telegram")
    assert gateway_view.allowed() == frozenset()
    cli_view = PairingStore(tmp_path, "telegram")
    cli_view.approve(cli_view.request("42").code)
    assert gateway_view.allowed() == frozenset({"42"})
    assert cli_view.revoke("42")
    assert gateway_view.allowed() == frozenset()


def test_garbled_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "telegram-pairing.json").write_text("{nope")
    with pytest.raises(ValueError, match=r"telegram-pairing\.json is not valid JSON"):
        PairingStore(tmp_path, "telegram").request("1")


def test_channel_names_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PairingStore(tmp_path, "../evil")


def _request(args: tuple[str, str]) -> str:
    directory, sender = args
    return PairingStore(Path(directory), "telegram").request(sender).code


def _approve(args: tuple[str, str]) -> bool:
    directory, code = args
    return PairingStore(Path(directory), "telegram").approve(code) is not None


def test_concurrent_processes_keep_the_cap_and_approve_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        codes = pool.map(_request, [(str(tmp_path), f"s{i}") for i in range(20)])
        store = PairingStore(tmp_path, "telegram")
        pending = store.list_pending()
        assert len(pending) == 3 and sum(bool(c) for c in codes) == 3
        approvals = pool.map(_approve, [(str(tmp_path), pending[0].code)] * 5)
    assert approvals.count(True) == 1
    assert store.allowed() == frozenset({pending[0].sender})

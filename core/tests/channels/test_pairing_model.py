"""A Hypothesis state machine over the pairing store (security test T22, in-process variant):
whatever the order of requests, approvals, rejections and clock jumps, the cap, the TTL and
one-time codes hold, and the files always parse."""

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from moltbot.channels.pairing import MAX_PENDING, TTL_SECONDS, PairingStore

SENDERS = st.sampled_from(["a", "b", "c", "d", "e"])


class PairingModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="pairing-model-"))
        self.now = 1_000_000.0
        self.store = PairingStore(self.dir, "telegram", clock=lambda: self.now)
        self.pending: dict[str, tuple[str, float]] = {}  # sender -> (code, created)
        self.allowed: set[str] = set()

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _expire(self) -> None:
        self.pending = {s: v for s, v in self.pending.items() if self.now - v[1] < TTL_SECONDS}

    @rule(sender=SENDERS)
    def request(self, sender: str) -> None:
        self._expire()
        outcome = self.store.request(sender)
        if sender in self.pending:
            assert (outcome.code, outcome.created) == (self.pending[sender][0], False)
        elif len(self.pending) >= MAX_PENDING:
            assert (outcome.code, outcome.created) == ("", False)
        else:
            assert outcome.created and outcome.code not in {c for c, _ in self.pending.values()}
            self.pending[sender] = (outcome.code, self.now)

    @rule(sender=SENDERS, reject=st.booleans())
    def decide(self, sender: str, reject: bool) -> None:
        self._expire()
        code = self.pending[sender][0] if sender in self.pending else "ZZZZZZZZ"
        result = self.store.reject(code) if reject else self.store.approve(code.lower())
        assert (result is not None) == (sender in self.pending)
        if result is not None:
            del self.pending[sender]
            if not reject:
                self.allowed.add(sender)
            again = self.store.approve(code)
            assert again is None

    @rule(minutes=st.integers(min_value=1, max_value=90))
    def wait(self, minutes: int) -> None:
        self.now += minutes * 60

    @invariant()
    def store_matches_the_model(self) -> None:
        self._expire()
        live = {r.sender: r.code for r in self.store.list_pending()}
        assert live == {s: c for s, (c, _) in self.pending.items()}
        assert len(live) <= MAX_PENDING
        assert self.store.allowed() == frozenset(self.allowed)
        for name in ("telegram-pairing.json", "telegram-allowFrom.json"):
            path = self.dir / name
            if path.exists():
                json.loads(path.read_text())


TestPairingModel = PairingModel.TestCase
TestPairingModel.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)

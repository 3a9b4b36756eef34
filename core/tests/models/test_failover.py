"""Failover order, profile rotation, cooldown escalation and backoff, under MockClock."""

from __future__ import annotations

import pytest
import trio

from moltbot.interfaces.provider import (
    ChatMessage,
    Done,
    ModelRequest,
    ProviderError,
    TextDelta,
    Usage,
)
from moltbot.models.failover import COOLDOWNS, Answered, FailoverPolicy
from moltbot.models.refs import ModelRef
from moltbot.testing import FakeModelProvider

PRIMARY = ModelRef("main", "big")
BACKUP = ModelRef("backup", "small")
OK = [TextDelta("fine"), Usage(3, 1), Done("end")]


def ask() -> ModelRequest:
    return ModelRequest(model="", messages=(ChatMessage(role="user", content="hi"),))


def policy(**providers: FakeModelProvider) -> FailoverPolicy:
    return FailoverPolicy(providers, random=lambda: 0.5)


async def run(p: FailoverPolicy, refs: list[ModelRef]) -> tuple[Answered, list[object]]:
    events = [e async for e in p.stream(refs, ask())]
    answered = events[0]
    assert isinstance(answered, Answered)
    assert not any(isinstance(e, Answered) for e in events[1:])
    return answered, events[1:]


async def test_primary_answers_with_its_own_model_id() -> None:
    main = FakeModelProvider([OK])
    answered, events = await run(policy(main=main), [PRIMARY, BACKUP])
    assert (answered.ref, answered.fallback, answered.notice()) == (PRIMARY, False, None)
    assert events == OK
    assert main.requests[0].model == "big"


async def test_auth_error_rotates_to_the_next_profile_then_cools_down(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider([ProviderError("auth", "bad key"), OK, OK], profiles=["main:a", "main:b"])
    p = policy(main=main)
    answered, _ = await run(p, [PRIMARY])
    assert answered.profile == "main:b" and not answered.fallback
    assert [a.id if a else None for a in main.auths] == ["main:a", "main:b"]
    assert p.cooldown_left("main:a") == pytest.approx(60)
    await run(p, [PRIMARY])  # a is still resting: b answers directly
    assert main.auths[-1].id == "main:b"  # type: ignore[union-attr]
    await trio.sleep(61)
    main.script.append(OK)
    await run(p, [PRIMARY])
    assert main.auths[-1].id == "main:a"  # type: ignore[union-attr]


async def test_cooldowns_escalate_and_cap(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider(profiles=["main:only"])
    backup = FakeModelProvider()
    p = policy(main=main, backup=backup)
    rests = []
    for _ in range(5):
        main.script.append(ProviderError("rate_limit", "slow down"))
        answered, _ = await run(p, [PRIMARY, BACKUP])
        assert answered.ref == BACKUP and answered.fallback
        rests.append(round(p.cooldown_left("main:only")))
        await trio.sleep(p.cooldown_left("main:only") + 1)
    assert rests == [60, 300, 1500, 3600, 3600] and tuple(rests[:4]) == COOLDOWNS
    main.script.append(OK)
    await run(p, [PRIMARY, BACKUP])
    assert p.state("main:only").errors == 0 and p.status() == {}


async def test_retry_after_is_honoured_on_the_last_candidate(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider([ProviderError("rate_limit", "wait", retry_after=7.0), OK], profiles=["main:k"])
    start = trio.current_time()
    answered, events = await run(policy(main=main), [PRIMARY])
    assert trio.current_time() - start == pytest.approx(7)
    assert answered.ref == PRIMARY and events == OK


async def test_retry_after_beyond_max_wait_gives_up() -> None:
    main = FakeModelProvider(
        [ProviderError("rate_limit", "tomorrow", retry_after=86400.0)], profiles=["main:k"]
    )
    with pytest.raises(ProviderError) as info:
        await run(policy(main=main), [PRIMARY])
    assert info.value.kind == "rate_limit"
    assert [a["kind"] for a in info.value.details["attempts"]] == ["rate_limit", "cooldown"]


async def test_overload_retries_with_jittered_backoff_then_falls_back(autojump_clock: trio.abc.Clock) -> None:
    overloaded = ProviderError("overloaded", "busy")
    main = FakeModelProvider([overloaded, overloaded, overloaded])
    backup = FakeModelProvider([OK])
    start = trio.current_time()
    answered, events = await run(policy(main=main, backup=backup), [PRIMARY, BACKUP])
    # retries=2: backoff 1 s then 2 s, jittered to 75 % with random() == 0.5
    assert trio.current_time() - start == pytest.approx(0.75 + 1.5)
    assert len(main.requests) == 3
    assert answered.ref == BACKUP and answered.fallback and events == OK
    assert answered.notice() == "↪ answered by fallback backup/small (main/big: overloaded)"


async def test_timeouts_and_network_errors_fall_back(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider([ProviderError("timeout", "slow"), ProviderError("network", "down")] * 2)
    backup = FakeModelProvider([OK])
    answered, _ = await run(policy(main=main, backup=backup), [PRIMARY, BACKUP])
    assert answered.ref == BACKUP
    assert [a.kind for a in answered.attempts] == ["timeout", "network", "timeout"]


async def test_bad_request_is_never_retried() -> None:
    main = FakeModelProvider([ProviderError("bad_request", "messages.0: invalid")])
    backup = FakeModelProvider([OK])
    with pytest.raises(ProviderError) as info:
        await run(policy(main=main, backup=backup), [PRIMARY, BACKUP])
    assert info.value.kind == "bad_request"
    assert len(main.requests) == 1 and backup.requests == []


async def test_context_overflow_moves_on_without_retrying_the_model() -> None:
    main = FakeModelProvider([ProviderError("context_overflow", "too long")])
    backup = FakeModelProvider([OK])
    answered, _ = await run(policy(main=main, backup=backup), [PRIMARY, BACKUP])
    assert answered.ref == BACKUP and len(main.requests) == 1


async def test_billing_rests_the_profile_for_hours(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider([ProviderError("billing", "no credit")], profiles=["main:card"])
    p = policy(main=main, backup=FakeModelProvider([OK]))
    answered, _ = await run(p, [PRIMARY, BACKUP])
    assert answered.ref == BACKUP
    assert p.cooldown_left("main:card") == pytest.approx(5 * 3600)
    assert p.status()["main:card"]["lastError"] == "billing"


async def test_error_after_output_is_not_failed_over() -> None:
    main = FakeModelProvider([[TextDelta("half an ans"), ProviderError("overloaded", "died")]])
    backup = FakeModelProvider([OK])
    seen: list[object] = []
    with pytest.raises(ProviderError) as info:
        async for event in policy(main=main, backup=backup).stream([PRIMARY, BACKUP], ask()):
            seen.append(event)
    assert info.value.kind == "overloaded"
    assert seen[1:] == [TextDelta("half an ans")]
    assert backup.requests == []


async def test_usage_before_output_is_held_until_commit() -> None:
    main = FakeModelProvider([[Usage(5, 0), ProviderError("overloaded", "died")]] * 3)
    backup = FakeModelProvider([[Usage(9, 2), TextDelta("ok"), Done("end")]])
    p = FailoverPolicy({"main": main, "backup": backup}, retries=0)
    answered, events = await run(p, [PRIMARY, BACKUP])
    assert answered.ref == BACKUP and events == [Usage(9, 2), TextDelta("ok"), Done("end")]


async def test_everything_failing_reports_every_attempt(autojump_clock: trio.abc.Clock) -> None:
    main = FakeModelProvider([ProviderError("auth", "bad key")], profiles=["main:a"])
    p = policy(main=main)
    with pytest.raises(ProviderError) as info:
        await run(p, [PRIMARY, ModelRef("ghost", "x")])
    assert info.value.kind == "auth"
    kinds = [(a["model"], a["kind"]) for a in info.value.details["attempts"]]
    assert kinds == [("main/big", "auth"), ("main/big", "cooldown"), ("ghost/x", "unavailable")]
    assert "tried:" in info.value.message


async def test_no_candidates_is_a_clear_error() -> None:
    with pytest.raises(ProviderError, match="no model is configured"):
        await run(policy(), [])


async def test_abandoning_the_stream_closes_the_provider_stream() -> None:
    closed = trio.Event()

    class Endless(FakeModelProvider):
        async def stream(self, request, *, auth=None):  # type: ignore[no-untyped-def,override]
            try:
                while True:
                    await trio.lowlevel.checkpoint()
                    yield TextDelta("more")
            finally:
                closed.set()

    from contextlib import aclosing

    async with aclosing(FailoverPolicy({"main": Endless()}).stream([PRIMARY], ask())) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                break
    assert closed.is_set()

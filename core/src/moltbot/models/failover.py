"""Failover across auth profiles and models, with escalating cooldowns per profile.

One turn walks the ordered candidates (primary, then fallbacks). Per candidate it rotates
through the provider's auth profiles: an auth, billing or rate-limit error cools the profile
down and the next profile is tried; when none is left the next candidate is. Overloaded,
timeout, network and unknown errors are retried on the same candidate with jittered backoff,
then the next candidate is tried. A bad request is never retried; a context overflow moves to
the next model (maybe with a larger window) but never retries the same one.

Only failures before the first output fail over: once a text delta or tool call has been
handed to the caller, an error is raised as is. All timing uses ``trio.current_time`` and
``trio.sleep``, so ``MockClock`` drives it in tests.
"""

from __future__ import annotations

import dataclasses
import math
import random as _random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import trio

from moltbot.interfaces.provider import (
    AuthProfile,
    ModelProvider,
    ModelRequest,
    ProviderError,
    StreamEvent,
    Usage,
)
from moltbot.models.refs import ModelRef

COOLDOWNS = (60.0, 300.0, 1500.0, 3600.0)
"""Seconds a profile rests after its 1st, 2nd, 3rd, 4th+ consecutive auth or rate-limit error."""
BILLING_COOLDOWNS = (5 * 3600.0, 10 * 3600.0, 20 * 3600.0, 24 * 3600.0)
"""A billing failure does not heal by itself, so that profile rests for hours."""
_PROFILE_KINDS = frozenset({"auth", "billing", "rate_limit"})
_TRANSIENT_KINDS = frozenset({"overloaded", "timeout", "network", "unknown"})


@dataclass(frozen=True)
class Attempt:
    """One failed try: which model and profile, and why (an error kind, or ``cooldown`` /
    ``unavailable`` when the candidate was skipped without a call)."""

    ref: ModelRef
    profile: str | None
    kind: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"model": str(self.ref), "profile": self.profile, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Answered:
    """Emitted once, before the first output event: who is answering this turn."""

    ref: ModelRef
    profile: str | None
    fallback: bool
    """Not the first candidate: show the user :meth:`notice`."""
    attempts: tuple[Attempt, ...] = ()

    def notice(self) -> str | None:
        """A one-line notice for the user when a fallback model answered, else None."""
        if not self.fallback:
            return None
        failed = next((a for a in reversed(self.attempts) if a.ref != self.ref), None)
        why = f" ({failed.ref}: {failed.kind.replace('_', ' ')})" if failed else ""
        return f"↪ answered by fallback {self.ref}{why}"


@dataclass
class ProfileState:
    errors: int = 0
    """Consecutive failures; a success resets it."""
    cooldown_until: float = -math.inf
    last_error: str | None = None
    last_used: float | None = None


class FailoverPolicy:
    """Holds per-profile health across turns; :meth:`stream` runs one turn."""

    def __init__(
        self,
        providers: Mapping[str, ModelProvider],
        *,
        retries: int = 2,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_wait: float = 60.0,
        cooldowns: Sequence[float] = COOLDOWNS,
        billing_cooldowns: Sequence[float] = BILLING_COOLDOWNS,
        random: Callable[[], float] = _random.random,
    ) -> None:
        """``retries``: extra tries of one candidate after a transient error; ``max_wait``:
        the longest a turn sleeps (for Retry-After or a cooling profile) instead of moving on."""
        self.providers = providers
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.cooldowns = tuple(cooldowns)
        self.billing_cooldowns = tuple(billing_cooldowns)
        self.random = random
        self.profiles: dict[str, ProfileState] = {}

    # ------------------------------------------------------------ profile health

    def state(self, key: str) -> ProfileState:
        return self.profiles.setdefault(key, ProfileState())

    def cooldown_left(self, key: str) -> float:
        return max(0.0, self.state(key).cooldown_until - trio.current_time())

    def _penalize(self, key: str, error: ProviderError) -> None:
        state = self.state(key)
        state.errors += 1
        state.last_error = error.kind
        steps = self.billing_cooldowns if error.kind == "billing" else self.cooldowns
        rest = steps[min(state.errors, len(steps)) - 1]
        if error.kind == "rate_limit" and error.retry_after is not None:
            rest = error.retry_after
        state.cooldown_until = trio.current_time() + rest

    def _succeeded(self, key: str) -> None:
        state = self.state(key)
        state.errors = 0
        state.last_error = None
        state.cooldown_until = -math.inf

    def status(self) -> dict[str, Any]:
        """Profiles with recent failures, for ``moltbot status``."""
        return {
            key: {
                "errors": s.errors,
                "lastError": s.last_error,
                "cooldownSeconds": round(self.cooldown_left(key)),
            }
            for key, s in sorted(self.profiles.items())
            if s.errors
        }

    def _delay(self, retry: int, error: ProviderError) -> float:
        base = min(self.max_backoff, self.backoff * 2**retry)
        jittered = base / 2 + self.random() * base / 2
        return max(jittered, error.retry_after or 0.0)

    # ------------------------------------------------------------ one turn

    async def stream(
        self, candidates: Sequence[ModelRef], request: ModelRequest
    ) -> AsyncIterator[Answered | StreamEvent]:
        """Yield :class:`Answered` and then the answering provider's events.

        Raises:
            ProviderError: the last failure when no candidate could answer (``details
                ["attempts"]`` lists every try), or any error after output started.
        """
        if not candidates:
            raise ProviderError("bad_request", "no model is configured (set agent.model)")
        attempts: list[Attempt] = []
        last: ProviderError | None = None
        for index, ref in enumerate(candidates):
            provider = self.providers.get(ref.provider)
            if provider is None:
                attempts.append(Attempt(ref, None, "unavailable", f"no provider named {ref.provider!r}"))
                continue
            profiles: list[AuthProfile | None] = [*provider.auth_profiles()] or [None]
            final = index == len(candidates) - 1
            tries = transient = 0
            while tries <= self.retries + len(profiles):
                choice, wait = self._pick(ref, profiles)
                if choice is None:
                    if final and wait <= self.max_wait:
                        await trio.sleep(wait)
                        continue
                    rest = "a while" if math.isinf(wait) else f"{wait:.0f}s"
                    attempts.append(Attempt(ref, None, "cooldown", f"every credential is resting ({rest})"))
                    break
                profile = profiles[choice]
                key = profile.id if profile else ref.provider
                tries += 1
                self.state(key).last_used = trio.current_time()
                answered = Answered(ref, profile.id if profile else None, index > 0, tuple(attempts))
                try:
                    async with aclosing(self._one(provider, ref, profile, request, answered)) as events:
                        async for event in events:
                            yield event
                    self._succeeded(key)
                    return
                except _Committed as committed:
                    if committed.error.kind in _PROFILE_KINDS:
                        self._penalize(key, committed.error)
                    raise committed.error from None
                except ProviderError as error:
                    last = error
                    attempts.append(Attempt(ref, answered.profile, error.kind, error.message))
                    if error.kind == "bad_request":
                        raise _with_attempts(error, attempts) from None
                    if error.kind == "context_overflow":
                        break
                    if error.kind in _PROFILE_KINDS:
                        self._penalize(key, error)
                        continue
                    if transient >= self.retries:
                        break
                    delay = self._delay(transient, error)
                    transient += 1
                    if delay > self.max_wait:
                        break
                    await trio.sleep(delay)
        raise _with_attempts(last or _all_resting(), attempts)

    def _pick(self, ref: ModelRef, profiles: list[AuthProfile | None]) -> tuple[int | None, float]:
        """The index of the first profile not cooling down, or ``(None, seconds until a
        rate-limited one is ready)``; only rate limits are worth waiting for, so other rests
        count as infinite. ``None`` in ``profiles`` is a provider without credentials."""
        soonest = math.inf
        for index, profile in enumerate(profiles):
            key = profile.id if profile else ref.provider
            left = self.cooldown_left(key)
            if left <= 0:
                return index, 0.0
            if self.state(key).last_error == "rate_limit":
                soonest = min(soonest, left)
        return None, soonest

    async def _one(
        self,
        provider: ModelProvider,
        ref: ModelRef,
        profile: AuthProfile | None,
        request: ModelRequest,
        answered: Answered,
    ) -> AsyncIterator[Answered | StreamEvent]:
        """One call; buffers events until the first output, then commits and passes through."""
        held: list[StreamEvent] = []
        committed = False
        call = dataclasses.replace(request, model=ref.model)
        async with aclosing(provider.stream(call, auth=profile)) as events:
            try:
                async for event in events:
                    if committed:
                        yield event
                    elif isinstance(event, Usage):
                        held.append(event)
                    else:
                        committed = True
                        yield answered
                        for item in [*held, event]:
                            yield item
            except ProviderError as error:
                if committed:
                    raise _Committed(error) from None
                raise
        if not committed:
            yield answered
            for item in held:
                yield item


class _Committed(Exception):
    """A provider error after output reached the caller: never failed over."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


def _all_resting() -> ProviderError:
    return ProviderError("rate_limit", "every credential of every configured model is cooling down")


def _with_attempts(error: ProviderError, attempts: list[Attempt]) -> ProviderError:
    tried = "; ".join(f"{a.ref} ({a.kind})" for a in attempts)
    details = {**error.details, "attempts": [a.to_json() for a in attempts]}
    message = error.message if len(attempts) <= 1 else f"{error.message} [tried: {tried}]"
    return ProviderError(
        error.kind, message, retry_after=error.retry_after, status=error.status, details=details
    )


__all__ = ["BILLING_COOLDOWNS", "COOLDOWNS", "Answered", "Attempt", "FailoverPolicy", "ProfileState"]

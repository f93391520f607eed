"""Retries and a circuit breaker for calls to a flaky remote service.

Retrying lives in this one layer: clients underneath are built with their own retries switched off
(`AsyncOpenAI(max_retries=0)`), otherwise the attempts multiply and the back-off is not ours to
see. Nothing here knows about OpenAI: what is worth retrying is decided by an `ErrorClassifier`
that the adapter supplies; `http_verdict` covers the HTTP part that every adapter shares.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

__all__ = [
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Clock",
    "ErrorClassifier",
    "RetriesExhausted",
    "RetryPolicy",
    "Verdict",
    "call_with_retries",
    "http_verdict",
    "parse_retry_after",
]

T = TypeVar("T")

# 408 Request Timeout, 409 Conflict (OpenAI uses it for transient lock contention) and
# 429 Too Many Requests are the only 4xx that can succeed unchanged on a second try.
_RETRYABLE_4XX = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Verdict:
    """How a failure should be treated: retry it (after `retry_after_s` if the server said)."""

    retryable: bool
    retry_after_s: float | None = None


ErrorClassifier = Callable[[BaseException], Verdict]


def _never_retry(error: BaseException) -> Verdict:
    """Default classifier: nothing is retryable unless an adapter says so."""
    return Verdict(retryable=False)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms`, or `Retry-After` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _as_seconds(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _as_seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def _as_seconds(value: str) -> float | None:
    """A non-negative finite number, or None when `value` is not one."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def http_verdict(status_code: int, headers: Mapping[str, str]) -> Verdict:
    """Retry 5xx and 408/409/429 (honouring their Retry-After); never other 4xx."""
    retryable = status_code >= 500 or status_code in _RETRYABLE_4XX
    return Verdict(retryable=retryable, retry_after_s=parse_retry_after(headers))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off with full jitter; server-directed waits win when given."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    # A server asking for a longer pause than this is not waited for inside one message's
    # handling (the Kafka poll interval would expire): we give up and let the caller reschedule.
    max_retry_after_s: float = 60.0
    classify: ErrorClassifier = _never_retry
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay before attempt `attempt + 1` (AWS architecture blog, 2015)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return ceiling * self.jitter()


class RetriesExhausted(Exception):
    """Every allowed attempt failed with a retryable error; `last_error` is the final one."""

    def __init__(self, last_error: BaseException, attempts: int) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {last_error!r}")
        self.last_error = last_error
        self.attempts = attempts


async def call_with_retries(fn: Callable[[], Awaitable[T]], *, policy: RetryPolicy) -> T:
    """Await `fn()` until it succeeds; non-retryable errors propagate unchanged at once."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except Exception as error:
            delay = _delay_before_next(error, attempt, policy)
            if delay is None:
                raise
            if math.isinf(delay):
                raise RetriesExhausted(error, attempt) from error
        await policy.sleep(delay)


def _delay_before_next(error: Exception, attempt: int, policy: RetryPolicy) -> float | None:
    """None: re-raise as is; inf: stop retrying; otherwise seconds to sleep."""
    verdict = policy.classify(error)
    if not verdict.retryable:
        return None
    if attempt >= policy.max_attempts:
        return math.inf
    if verdict.retry_after_s is None:
        return policy.backoff(attempt)
    if verdict.retry_after_s > policy.max_retry_after_s:
        return math.inf
    return verdict.retry_after_s


class Clock(Protocol):
    """Monotonic time and sleeping, injectable so tests need not wait."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Pause the calling task."""
        ...


class _SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """`asyncio.sleep()`."""
        await asyncio.sleep(seconds)


class CircuitState(StrEnum):
    """Closed: calls flow. Open: calls fail fast. Half-open: one probe call is let through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(Exception):
    """Raised instead of calling a service that is known to be down."""

    def __init__(self, retry_in_s: float) -> None:
        super().__init__(f"circuit open; retry in {retry_in_s:.1f}s")
        self.retry_in_s = retry_in_s


def _always(error: BaseException) -> bool:
    """Default failure predicate: every exception counts against the service."""
    return True


@dataclass
class CircuitBreaker:
    """Stops calling a failing service for `reset_timeout_s` after `failure_threshold` failures.

    `counts_as_failure` says which errors are the service's fault (a 5xx, a timeout) as opposed
    to ours (a 400, an unparsable answer), which must not open the circuit.
    """

    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    counts_as_failure: Callable[[BaseException], bool] = _always
    clock: Clock = field(default_factory=_SystemClock)
    _failures: int = field(default=0, init=False)
    _opened_at: float | None = field(default=None, init=False)
    _probing: bool = field(default=False, init=False)

    @property
    def state(self) -> CircuitState:
        """The current state; OPEN turns into HALF_OPEN by itself once the timeout has passed."""
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._remaining_open_s() > 0:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await `fn()` through the breaker, or raise `CircuitOpenError` without calling it."""
        self._admit()
        try:
            result = await fn()
        except Exception as error:
            self._on_error(error)
            raise
        except BaseException:
            # Cancelled (shutdown, a timeout above us): says nothing about the service's health.
            self._probing = False
            raise
        self._on_success()
        return result

    async def wait_until_closed(self) -> None:
        """Return once calls may flow again: closed, or half-open (the next call is the probe).

        A consumer awaits this before taking the next message, so an outage pauses consumption
        instead of burning every message's retries and filling the dead-letter topic.
        """
        while self.state is CircuitState.OPEN:
            await self.clock.sleep(self._remaining_open_s())

    def _admit(self) -> None:
        """Let a call through, or fail fast; in half-open only one probe at a time passes."""
        state = self.state
        if state is CircuitState.OPEN or (state is CircuitState.HALF_OPEN and self._probing):
            raise CircuitOpenError(self._remaining_open_s())
        self._probing = state is CircuitState.HALF_OPEN

    def _on_success(self) -> None:
        """Any success closes the circuit and forgets earlier failures."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def _on_error(self, error: BaseException) -> None:
        """Count a service failure; a failed probe or the threshold-th failure opens the circuit."""
        was_probe = self._probing
        self._probing = False
        if not self.counts_as_failure(error):
            if was_probe:
                # The service answered (we sent something it rejected): it is up again.
                self._on_success()
            return
        self._failures += 1
        if was_probe or self._failures >= self.failure_threshold:
            self._opened_at = self.clock.monotonic()

    def _remaining_open_s(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when not open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout_s - self.clock.monotonic())

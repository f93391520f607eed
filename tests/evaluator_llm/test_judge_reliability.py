"""Retries, time-outs and the circuit breaker: the judge over HTTP, and the generic pieces alone."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable
from dataclasses import replace

import httpx2
import openai
import pytest
from fake_openai import FakeOpenAIServer, completion, criterion, error, verdict
from interview_evaluator.openai_judge import (
    JudgeConfig,
    OpenAIJudge,
    classify_openai_error,
    is_service_failure,
)
from interview_evaluator.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    RetriesExhausted,
    RetryPolicy,
    Verdict,
    call_with_retries,
    http_verdict,
    parse_retry_after,
)
from interview_evaluator.scoring import ScoringRequest
from pydantic import SecretStr

JudgeFactory = Callable[..., OpenAIJudge]  # the `make_judge` fixture

REQUEST = ScoringRequest(
    answer_id="a-1",
    question="What does TCP add on top of IP?",
    answer="Reliable, ordered delivery: sequence numbers, acknowledgements and retransmission.",
)
GOOD = completion(
    verdict(
        [
            criterion("correctness", 90, evidence=["sequence numbers"]),
            criterion("completeness", 70, evidence=["retransmission"]),
        ]
    )
)


class FakeClock:
    """A clock that only moves when told to, or when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def state(breaker: CircuitBreaker) -> CircuitState:
    """The breaker's state, read afresh (a plain attribute read would be narrowed by mypy)."""
    return breaker.state


# --- the judge over HTTP ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "1"}, 1.0), ({"retry-after-ms": "250", "retry-after": "9"}, 0.25)],
)
async def test_429_waits_as_long_as_retry_after_says(
    fake_openai: FakeOpenAIServer,
    make_judge: JudgeFactory,
    slept: list[float],
    headers: dict[str, str],
    wait: float,
) -> None:
    fake_openai.enqueue(error(429, headers=headers), GOOD)

    result = await make_judge().score(REQUEST)

    assert result.score == 82  # default rubric: 0.6 * 90 + 0.4 * 70
    assert slept == [wait]
    assert len(fake_openai.received) == 2


async def test_retry_after_is_honoured_in_real_time(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.enqueue(error(429, headers={"retry-after-ms": "300"}), GOOD)
    config = JudgeConfig(api_key=SecretStr("sk-test"))
    policy = RetryPolicy(classify=classify_openai_error)  # real asyncio.sleep

    await OpenAIJudge(config, openai_client, retry_policy=policy).score(REQUEST)

    first, second = fake_openai.received
    assert second.at - first.at >= 0.3


async def test_server_errors_until_retries_are_exhausted(
    fake_openai: FakeOpenAIServer, make_judge: JudgeFactory, slept: list[float]
) -> None:
    fake_openai.enqueue(error(500), error(502), error(503), GOOD)

    with pytest.raises(RetriesExhausted) as caught:
        await make_judge(max_attempts=3).score(REQUEST)

    assert caught.value.attempts == 3
    assert isinstance(caught.value.last_error, openai.InternalServerError)
    assert len(fake_openai.received) == 3
    # Full jitter: each wait is somewhere below its exponential ceiling.
    assert len(slept) == 2
    assert 0 <= slept[0] <= 0.5
    assert 0 <= slept[1] <= 1.0


async def test_a_slow_server_times_out_and_is_retried(
    fake_openai: FakeOpenAIServer, make_judge: JudgeFactory
) -> None:
    fake_openai.enqueue(replace(GOOD, delay_s=1.0), GOOD)

    result = await make_judge(timeout_s=0.2, max_attempts=2).score(REQUEST)

    assert result.score == 82  # default rubric: 0.6 * 90 + 0.4 * 70
    assert len(fake_openai.received) == 2


async def test_timeouts_until_retries_are_exhausted(
    fake_openai: FakeOpenAIServer, make_judge: JudgeFactory
) -> None:
    fake_openai.enqueue(replace(GOOD, delay_s=1.0), replace(GOOD, delay_s=1.0))

    with pytest.raises(RetriesExhausted) as caught:
        await make_judge(timeout_s=0.2, max_attempts=2).score(REQUEST)

    assert isinstance(caught.value.last_error, openai.APITimeoutError)


async def test_an_open_breaker_stops_calls_until_its_timeout(
    fake_openai: FakeOpenAIServer, make_judge: JudgeFactory
) -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(
        failure_threshold=2,
        reset_timeout_s=30,
        counts_as_failure=is_service_failure,
        clock=clock,
    )
    judge = make_judge(breaker=breaker, max_attempts=5)
    fake_openai.enqueue(error(503), error(503), GOOD)

    with pytest.raises(CircuitOpenError):
        await judge.score(REQUEST)
    assert len(fake_openai.received) == 2  # the third attempt never left the process
    assert state(breaker) is CircuitState.OPEN

    await breaker.wait_until_closed()  # a consumer pauses here
    assert clock.slept == [30]
    result = await judge.score(REQUEST)  # the probe succeeds

    assert result.score == 82  # default rubric: 0.6 * 90 + 0.4 * 70
    assert state(breaker) is CircuitState.CLOSED


async def test_bad_output_and_client_errors_do_not_open_the_breaker(
    fake_openai: FakeOpenAIServer, make_judge: JudgeFactory
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, counts_as_failure=is_service_failure)
    fake_openai.enqueue(completion("{bad"), error(400))

    with pytest.raises(openai.BadRequestError):
        await make_judge(breaker=breaker, max_attempts=3).score(REQUEST)
    assert state(breaker) is CircuitState.CLOSED


# --- retry policy --------------------------------------------------------------------------


def test_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after({"retry-after": "3"}) == 3
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "20"}) == 0.02
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(7)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-4"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (404, False),
        (422, False),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_which_statuses_are_retried(status: int, retryable: bool) -> None:
    assert http_verdict(status, {}).retryable is retryable


def test_connection_errors_are_retried_but_unknown_errors_are_not() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert classify_openai_error(openai.APIConnectionError(request=request)).retryable
    assert classify_openai_error(openai.APITimeoutError(request=request)).retryable
    assert not classify_openai_error(KeyError("bug")).retryable


async def test_call_with_retries_counts_attempts_and_keeps_the_last_error() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        raise TimeoutError(len(calls))

    policy = RetryPolicy(
        max_attempts=4, classify=lambda e: Verdict(True), sleep=_no_sleep, jitter=lambda: 1.0
    )
    with pytest.raises(RetriesExhausted) as caught:
        await call_with_retries(flaky, policy=policy)

    assert caught.value.attempts == 4
    assert caught.value.last_error.args == (4,)


async def test_non_retryable_errors_propagate_unchanged_at_once() -> None:
    calls: list[int] = []

    async def broken() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        await call_with_retries(broken, policy=RetryPolicy(sleep=_no_sleep))
    assert calls == [1]


async def test_a_retry_after_beyond_the_cap_gives_up_instead_of_blocking() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def rate_limited() -> None:
        raise TimeoutError

    policy = RetryPolicy(
        max_retry_after_s=60, classify=lambda e: Verdict(True, retry_after_s=600), sleep=record
    )
    with pytest.raises(RetriesExhausted) as caught:
        await call_with_retries(rate_limited, policy=policy)
    assert (caught.value.attempts, waits) == (1, [])


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    top = RetryPolicy(base_delay_s=0.5, max_delay_s=4, jitter=lambda: 1.0)
    assert [top.backoff(n) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert RetryPolicy(jitter=lambda: 0.0).backoff(3) == 0


# --- circuit breaker -----------------------------------------------------------------------


async def _ok() -> str:
    return "ok"


async def _fail() -> str:
    raise ConnectionError("down")


async def _no_sleep(seconds: float) -> None:
    return None


async def test_breaker_opens_after_the_threshold_and_fails_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=10, clock=clock)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await breaker.call(_fail)
    assert state(breaker) is CircuitState.CLOSED
    assert await breaker.call(_ok) == "ok"  # a success resets the count
    for _ in range(3):
        with pytest.raises(ConnectionError):
            await breaker.call(_fail)
    assert state(breaker) is CircuitState.OPEN

    clock.now += 4
    with pytest.raises(CircuitOpenError) as caught:
        await breaker.call(_ok)
    assert caught.value.retry_in_s == 6


async def test_breaker_half_open_probe_closes_or_reopens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10, clock=clock)
    with pytest.raises(ConnectionError):
        await breaker.call(_fail)
    clock.now += 10
    assert state(breaker) is CircuitState.HALF_OPEN

    with pytest.raises(ConnectionError):
        await breaker.call(_fail)  # the probe fails: open for another full timeout
    assert state(breaker) is CircuitState.OPEN
    clock.now += 10

    assert await breaker.call(_ok) == "ok"
    assert state(breaker) is CircuitState.CLOSED


async def test_breaker_lets_one_probe_at_a_time() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=5, clock=clock)
    with pytest.raises(ConnectionError):
        await breaker.call(_fail)
    clock.now += 5
    release = asyncio.Event()

    async def slow_probe() -> str:
        await release.wait()
        return "probe"

    probe = asyncio.ensure_future(breaker.call(slow_probe))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpenError):
        await breaker.call(_ok)
    release.set()
    assert await probe == "probe"
    assert state(breaker) is CircuitState.CLOSED


async def test_errors_that_are_not_the_services_fault_do_not_count() -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, counts_as_failure=lambda e: isinstance(e, ConnectionError)
    )

    async def rejected() -> None:
        raise ValueError("our bad request")

    with pytest.raises(ValueError, match="our bad request"):
        await breaker.call(rejected)
    assert state(breaker) is CircuitState.CLOSED


async def test_wait_until_closed_returns_at_once_when_closed_and_sleeps_while_open() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=8, clock=clock)
    await breaker.wait_until_closed()
    assert clock.slept == []

    with pytest.raises(ConnectionError):
        await breaker.call(_fail)
    clock.now += 3
    await breaker.wait_until_closed()
    assert clock.slept == [5]
    assert state(breaker) is CircuitState.HALF_OPEN

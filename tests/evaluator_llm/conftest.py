"""Fixtures for the LLM judge tests: the fake OpenAI server, a real client pointed at it, judges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAIServer
from interview_evaluator.examples import ExampleBank
from interview_evaluator.openai_judge import JudgeConfig, OpenAIJudge, classify_openai_error
from interview_evaluator.resilience import CircuitBreaker, RetryPolicy
from pydantic import SecretStr

JudgeFactory = Callable[..., OpenAIJudge]


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    """One server for the session; tests get it reset through `fake_openai`."""
    server = FakeOpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The fake server with no scripted replies and no recorded requests."""
    fake_openai_server.reset()
    return fake_openai_server


@pytest.fixture(scope="session")
async def openai_client(
    fake_openai_server: FakeOpenAIServer,
) -> AsyncIterator[openai.AsyncOpenAI]:
    """A real AsyncOpenAI client talking HTTP to the fake server, with SDK retries off.

    Shared by the session: building one costs ~0.3 s (TLS context), and it holds no state.
    """
    client = openai.AsyncOpenAI(
        base_url=fake_openai_server.url, api_key="sk-test", max_retries=0, timeout=5.0
    )
    yield client
    await client.close()


@pytest.fixture
def slept() -> list[float]:
    """Every back-off the judge asked for, recorded instead of waited."""
    return []


@pytest.fixture
def make_judge(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI, slept: list[float]
) -> JudgeFactory:
    """Build a judge; keyword arguments override `JudgeConfig` fields. Back-offs are not waited."""

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    def build(
        *,
        breaker: CircuitBreaker | None = None,
        examples: ExampleBank | None = None,
        **overrides: Any,
    ) -> OpenAIJudge:
        config = JudgeConfig(api_key=SecretStr("sk-test"), **overrides)
        policy = RetryPolicy(
            max_attempts=config.max_attempts, classify=classify_openai_error, sleep=no_wait
        )
        return OpenAIJudge(
            config, openai_client, breaker=breaker, retry_policy=policy, examples=examples
        )

    return build

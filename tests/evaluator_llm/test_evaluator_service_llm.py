"""The evaluator service with the LLM judge, on real Kafka, against the local fake OpenAI server.

The real `openai` client does real HTTP to a server the test starts: a 429 followed by success
produces a verdict, a model outage longer than one delivery's attempts is waited out (the answer
is redelivered, not dead-lettered), and a request the model rejects ends in the dead-letter topic
with the original event and the error.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from fake_openai import FakeOpenAIServer, completion, criterion, error, verdict
from fastapi import FastAPI
from interview_evaluator.main import create_app
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics
from interview_shared.domain import Criterion, Rubric
from interview_shared.events import AnswerSubmitted, QuestionSnapshot, encode_event
from pydantic import SecretStr
from support import commit_group_at_end, matching, tail

pytestmark = [pytest.mark.kafka]
ANSWER = "A mutex is a lock: only one thread at a time may enter the critical section."
RUBRIC = Rubric(
    version="r7",
    criteria=(Criterion(name="correctness", weight=3), Criterion(name="completeness", weight=1)),
)


@pytest.fixture
async def evaluator(kafka_bootstrap: str, fake_openai: FakeOpenAIServer) -> AsyncIterator[FastAPI]:
    """The evaluator app, judging through the fake server, running in this process.

    Its consumer groups are its own and start at the end of the answers topic, so answers left
    by other tests cannot take the replies scripted for this one.
    """
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(kafka_bootstrap, f"{prefix}-evaluator", topics.ANSWERS)
    settings = EvaluatorSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_prefix=prefix,
        openai_api_key=SecretStr("sk-test-not-a-real-key"),
        openai_base_url=fake_openai.url,
        judge_max_attempts=3,
        judge_timeout_s=5,
        judge_breaker_failures=50,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def submitted() -> AnswerSubmitted:
    question_id = uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=question_id,
        text=ANSWER,
        question=QuestionSnapshot(
            question_id=question_id,
            text="What is a mutex?",
            reference_answer="A lock giving mutual exclusion.",
            key_points=("mutual exclusion",),
            rubric=RUBRIC,
        ),
    )


async def publish(evaluator: FastAPI, event: AnswerSubmitted) -> None:
    await evaluator.state.broker.publish(
        encode_event(event), topic=event.topic.name, key=event.key.encode()
    )


async def test_rate_limited_then_scored_with_lineage(
    evaluator: FastAPI, fake_openai: FakeOpenAIServer, kafka_bootstrap: str
) -> None:
    fake_openai.enqueue(
        error(429, headers={"Retry-After": "1"}),
        completion(
            verdict(
                [
                    criterion("correctness", 80, evidence=["only one thread at a time"]),
                    criterion("completeness", 40),
                ],
                total=100,  # a total the model made up: it must be ignored
            )
        ),
    )
    event = submitted()
    async with tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations:
        started = time.monotonic()
        await publish(evaluator, event)
        [verdict_event] = await matching(
            evaluations, lambda v: v.get("answer_id") == str(event.answer_id)
        )
    assert len(fake_openai.received) == 2
    assert fake_openai.received[1].at - fake_openai.received[0].at >= 0.9  # Retry-After honoured
    assert time.monotonic() - started >= 0.9
    assert verdict_event["outcome"] == "SCORED"
    assert verdict_event["score"] == pytest.approx((80 * 3 + 40 * 1) / 4)
    lineage = verdict_event["lineage"]
    assert lineage["scorer"] == "llm-judge"
    assert lineage["model"] == "gpt-4o-mini"
    assert lineage["rubric_version"] == "r7"
    assert lineage["prompt_hash"]
    assert lineage["parameters"]["temperature"] == 0
    assert verdict_event["usage"]["prompt_tokens"] == 100
    request = fake_openai.received[1].json
    assert request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    system = [m for m in request["messages"] if m["role"] == "system"]
    assert all(ANSWER not in m["content"] for m in system), "the answer is data, never system"


async def test_a_model_outage_redelivers_the_answer_instead_of_dead_lettering_it(
    evaluator: FastAPI, fake_openai: FakeOpenAIServer, kafka_bootstrap: str
) -> None:
    # Five 503s outlast one delivery's JUDGE_MAX_ATTEMPTS=3: the answer must come back and be
    # scored once the model answers, never end in the dead-letter topic (issue 9, R7).
    fake_openai.enqueue(*(error(503) for _ in range(5)))
    fake_openai.enqueue(
        completion(verdict([criterion("correctness", 70), criterion("completeness", 50)]))
    )
    event = submitted()
    async with (
        tail(kafka_bootstrap, topics.DEAD_LETTER) as dead_letters,
        tail(kafka_bootstrap, topics.EVALUATIONS) as evaluations,
    ):
        await publish(evaluator, event)
        [verdict_event] = await matching(
            evaluations, lambda v: v.get("answer_id") == str(event.answer_id), timeout_s=60
        )
        letters = await dead_letters.getmany(timeout_ms=1000)
    assert verdict_event["outcome"] == "SCORED"
    assert verdict_event["lineage"]["scorer"] == "llm-judge"
    assert not [
        r for rs in letters.values() for r in rs if str(event.interview_id).encode() == r.key
    ]
    assert len(fake_openai.received) == 6  # 3 attempts, redelivered, 2 more failures, success


async def test_a_non_retryable_model_error_is_dead_lettered(
    evaluator: FastAPI, fake_openai: FakeOpenAIServer, kafka_bootstrap: str
) -> None:
    fake_openai.enqueue(error(400))  # the request itself is wrong: waiting cannot help
    event = submitted()
    async with tail(kafka_bootstrap, topics.DEAD_LETTER) as dead_letters:
        await publish(evaluator, event)
        [letter] = await matching(
            dead_letters, lambda v: v.get("key") == str(event.interview_id), timeout_s=60
        )
    assert letter["consumer_group"].endswith("-evaluator")
    assert letter["error_type"] == "BadRequestError"
    assert json.loads(base64.b64decode(letter["value_base64"]))["answer_id"] == str(event.answer_id)
    assert len(fake_openai.received) == 1

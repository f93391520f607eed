"""A dead letter redriven by the ops CLI is consumed by the consumer that gave up on it.

The real evaluator app runs in this process on real Kafka with a scorer that is down for its
first call, so the answer is dead-lettered (the evaluator makes one attempt); after
`dead-letters redrive` the same consumer group reads it again from the answers topic, with its
original key and headers, and scores it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from interview_evaluator.main import create_app
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.scoring import ScoringRequest, ScoringResult
from interview_evaluator.settings import EvaluatorSettings
from interview_localinfra.ops_redrive import REDRIVEN_FROM
from interview_localinfra.topics import ensure_topics
from interview_shared import topics
from interview_shared.events import AnswerSubmitted, QuestionSnapshot
from interview_shared.messaging import DeadLetter, EventPublisher
from support import commit_group_at_end, tail

pytestmark = [pytest.mark.kafka]


class DownOnce(OfflineScorer):
    """The offline scorer, failing its first call as a judge that is down would."""

    calls = 0

    async def score(self, request: ScoringRequest) -> ScoringResult:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("judge unavailable")
        return await super().score(request)


async def ops(bootstrap: str, *args: str) -> tuple[int, str]:
    """Run the ops CLI; (exit code, stdout)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interview_localinfra.ops", *args, "--bootstrap", bootstrap,
        env={**os.environ, "COLUMNS": "250"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def first(consumer: AIOKafkaConsumer, match: Any, *, timeout_s: float = 60) -> Any:
    """The first record `match(record)` accepts."""
    async with asyncio.timeout(timeout_s):
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if match(record):
                        return record


def an_answer() -> AnswerSubmitted:
    question_id = uuid.uuid4()
    return AnswerSubmitted(
        answer_id=uuid.uuid4(), interview_id=uuid.uuid4(), question_id=question_id,
        text="It spreads incoming requests across several servers.",
        question=QuestionSnapshot(
            question_id=question_id, text="What does a load balancer do?",
            reference_answer="It spreads requests across servers so none is overloaded.",
        ),
        correlation_id=f"redrive-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip


async def test_a_redriven_dead_letter_is_consumed_by_its_consumer(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap)
    prefix = f"redrive-{uuid.uuid4().hex[:8]}"
    group = f"{prefix}-evaluator"
    await commit_group_at_end(kafka_bootstrap, group, topics.ANSWERS)
    await commit_group_at_end(kafka_bootstrap, f"{prefix}-replays", topics.REPLAYS)
    settings = EvaluatorSettings(
        kafka_bootstrap_servers=kafka_bootstrap, consumer_group_prefix=prefix, openai_api_key=None
    )
    app = create_app(settings, scorer=DownOnce())
    event = an_answer()
    answer_id = str(event.answer_id).encode()

    async with (
        tail(kafka_bootstrap, topics.DEAD_LETTER) as dead,
        tail(kafka_bootstrap, topics.ANSWERS) as answers,
        tail(kafka_bootstrap, topics.EVALUATIONS) as verdicts,
        app.router.lifespan_context(app),
        KafkaBroker(kafka_bootstrap) as broker,
    ):
        await EventPublisher(broker).publish(event)
        original = await first(answers, lambda r: answer_id in (r.value or b""))
        record = await first(dead, lambda r: answer_id in (r.value or b""))
        letter = DeadLetter.model_validate_json(record.value)
        assert (letter.consumer_group, letter.error_type) == (group, "RuntimeError")

        refused, _ = await ops(kafka_bootstrap, "dead-letters", "redrive")
        assert refused == 2, "a redrive without a choice takes nothing"
        code, listed = await ops(
            kafka_bootstrap, "dead-letters", "redrive", "--group", group, "--dry-run"
        )
        assert code == 0
        assert f"{record.partition}@{record.offset}" in listed
        code, out = await ops(
            kafka_bootstrap, "dead-letters", "redrive", "--offset",
            f"{record.partition}@{record.offset}",
        )  # fmt: skip
        assert code == 0, out
        assert "redriven: 1" in out

        redriven = await first(answers, lambda r: answer_id in (r.value or b""))
        verdict = await first(verdicts, lambda r: answer_id in (r.value or b""))

    assert (redriven.key, redriven.value) == (original.key, original.value)
    assert redriven.partition == original.partition
    assert list(redriven.headers) == [
        *original.headers,
        (REDRIVEN_FROM, f"{topics.DEAD_LETTER.name}:{record.partition}@{record.offset}".encode()),
    ]
    assert b'"type":"answer.evaluated"' in verdict.value.replace(b" ", b"")

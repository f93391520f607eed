"""Live answers before replayed ones, and answers of erased candidates judged by no one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.priority import LiveFirst
from interview_evaluator.replay_run import (
    LogContext,
    ReplayRequest,
    ReplayScope,
    opened_answers,
    run_replay,
)
from interview_shared.events import AnswerSubmitted, QuestionSnapshot, decode_event
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_shared.messaging import EventPublisher


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        self.events.append(decode_event(message))


def answer(subject: uuid.UUID | None = None) -> AnswerSubmitted:
    return AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=uuid.uuid4(),
        text="A mutex lets one thread at a time hold the lock.",
        question=QuestionSnapshot(
            question_id=uuid.uuid4(), text="What is a mutex?", reference_answer="A lock."
        ),
        data_subject=subject,
    )


async def listed(*answers: AnswerSubmitted) -> AsyncGenerator[AnswerSubmitted]:
    for one in answers:
        yield one


async def test_a_replay_judges_nothing_while_a_live_answer_is_in_hand() -> None:
    priority, recorder = LiveFirst(), Recorder()
    request = ReplayRequest(replay_id=uuid.uuid4(), scope=ReplayScope())
    async with priority.live():
        run = asyncio.create_task(
            run_replay(
                listed(answer(), answer()),
                request,
                context=LogContext(),
                scorer=OfflineScorer(),
                publisher=EventPublisher(recorder),
                priority=priority,
            )
        )
        await asyncio.sleep(0.05)
        assert recorder.events == []  # waiting for its turn
        assert priority.busy
    done = await asyncio.wait_for(run, 5)

    assert done.evaluated == 2
    assert len(recorder.events) == 2
    assert not priority.busy


async def test_a_live_verdict_holds_the_replays_back_while_it_is_judged() -> None:
    priority = LiveFirst()
    seen: list[bool] = []

    class Watching(OfflineScorer):
        def score_sync(self, request: Any) -> Any:
            seen.append(priority.busy)
            return super().score_sync(request)

    evaluator = AnswerEvaluator(
        scorer=Watching(), publisher=EventPublisher(Recorder()), priority=priority
    )
    assert await evaluator.verdict(answer()) is not None
    assert seen == [True]
    assert not priority.busy
    await asyncio.wait_for(priority.turn(), 1)


async def test_answers_of_an_erased_candidate_are_judged_neither_live_nor_replayed() -> None:
    ring = MemoryKeyRing()
    privacy = Privacy(ring)
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await ring.create(ada)
    await ring.create(bob)
    hers, his = await privacy.seal(answer(ada)), await privacy.seal(answer(bob))
    await ring.destroy(ada)
    evaluator = AnswerEvaluator(
        scorer=OfflineScorer(), publisher=EventPublisher(Recorder()), privacy=privacy
    )

    assert await evaluator.verdict(hers) is None
    assert await evaluator.verdict(his) is not None
    replayed = [a.answer_id async for a in opened_answers(listed(hers, his), privacy)]
    assert replayed == [his.answer_id]

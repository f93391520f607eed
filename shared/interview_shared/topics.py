"""The topic catalogue: every Kafka topic the product uses, with its partition key.

Same-aggregate ordering comes from the key, so every event about one interview (or one chat
session) lands on one partition and is consumed in the order it was produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PartitionKey(StrEnum):
    """Which aggregate id an event on a topic is keyed by."""

    CANDIDATE_ID = "candidate_id"
    QUESTION_ID = "question_id"
    INTERVIEW_ID = "interview_id"
    CHAT_SESSION_ID = "chat_session_id"
    SUBJECT_KEY = "subject_key"
    """The key of the event an outcome is about, so outcomes keep their aggregate's order."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One Kafka topic: its name, how its events are keyed and how many partitions it has."""

    name: str
    key: PartitionKey
    partitions: int = 3
    description: str = ""


CANDIDATES = Topic(
    "interview.candidates.v1",
    PartitionKey.CANDIDATE_ID,
    3,
    "candidate.registered, candidate.cv_analyzed",
)
QUESTIONS = Topic("interview.questions.v1", PartitionKey.QUESTION_ID, 3, "question.created")
INTERVIEWS = Topic(
    "interview.interviews.v1",
    PartitionKey.INTERVIEW_ID,
    6,
    "interview.created, interview.status_changed",
)
ANSWERS = Topic(
    "interview.answers.v1", PartitionKey.INTERVIEW_ID, 6, "answer.submitted, answer.audio_submitted"
)
EVALUATIONS = Topic(
    "interview.evaluations.v1",
    PartitionKey.INTERVIEW_ID,
    6,
    "answer.evaluated, interview.evaluated",
)
CHAT_MESSAGES = Topic(
    "interview.chat.messages.v1",
    PartitionKey.CHAT_SESSION_ID,
    6,
    "chat.session.started, chat.message.posted, chat.reply.cancelled, chat.session.closed",
)
CHAT_REPLIES = Topic(
    "interview.chat.replies.v1",
    PartitionKey.CHAT_SESSION_ID,
    6,
    "chat.reply.delta, chat.reply.completed",
)
OUTCOMES = Topic(
    "interview.outcomes.v1",
    PartitionKey.SUBJECT_KEY,
    6,
    "store.outcome_recorded: what the store did with each command event it applied",
)
DEAD_LETTER = Topic(
    "interview.dead-letter.v1",
    PartitionKey.INTERVIEW_ID,
    1,
    "messages a consumer could not process, with the error and the original bytes",
)

DOMAIN_TOPICS: tuple[Topic, ...] = (
    CANDIDATES,
    QUESTIONS,
    INTERVIEWS,
    ANSWERS,
    EVALUATIONS,
    CHAT_MESSAGES,
    CHAT_REPLIES,
)
# The outcomes topic is not a domain topic: the store writes it and does not read it back, and a
# store rebuilt from the log ignores it (outcomes are derived from the domain topics).
ALL_TOPICS: tuple[Topic, ...] = (*DOMAIN_TOPICS, OUTCOMES, DEAD_LETTER)

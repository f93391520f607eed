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
    REPLAY_ID = "replay_id"
    SUBJECT_KEY = "subject_key"
    """The key of the event an outcome is about, so outcomes keep their aggregate's order."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long a topic keeps its records, as the broker's topic configs say it."""

    cleanup_policy: str = "delete"
    """``delete`` drops whole segments past ``retention_ms``; ``compact`` keeps each key's last."""
    retention_ms: int = -1
    """-1 keeps records forever: the log is the source of truth, replays and rebuilds read it."""
    extra: tuple[tuple[str, str], ...] = ()
    """Further topic configs of the policy (how soon compaction gets to a record)."""

    def configs(self) -> dict[str, str]:
        """The topic configs that state this policy (applied at creation and on every start)."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            **dict(self.extra),
        }


FOREVER = Retention()
"""Every domain event is kept: a store rebuilt from the log, or a replay of last year, needs it."""
ONE_DAY = Retention(retention_ms=24 * 60 * 60 * 1000)
COMPACTED = Retention(cleanup_policy="compact")
"""For topics whose key is the state: the newest record per key is all a reader needs."""
SHREDDING = Retention(
    cleanup_policy="compact",
    extra=(
        # A destroyed key must leave the broker's disks soon, not whenever a 1 GiB segment
        # fills: roll segments hourly, clean any segment with a tombstone in it, and drop the
        # tombstone itself a day later (long enough for every reader to have seen it).
        ("segment.ms", str(60 * 60 * 1000)),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("max.compaction.lag.ms", str(2 * 60 * 60 * 1000)),
        ("delete.retention.ms", str(24 * 60 * 60 * 1000)),
    ),
)
"""Compacted, and quick to compact: the newest record per key, gone soon after a tombstone."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One Kafka topic: its name, how its events are keyed, its partitions and its retention."""

    name: str
    key: PartitionKey
    partitions: int = 3
    description: str = ""
    retention: Retention = FOREVER


CANDIDATES = Topic(
    "interview.candidates.v1",
    PartitionKey.CANDIDATE_ID,
    3,
    "candidate.registered, candidate.cv_analyzed",
)
QUESTIONS = Topic(
    "interview.questions.v1",
    PartitionKey.QUESTION_ID,
    3,
    "question.created, question.rubric_changed",
)
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
REPLAYS = Topic(
    "interview.replays.v1",
    PartitionKey.REPLAY_ID,
    3,
    "replay.requested, replay.progressed, replay.finished: re-scoring runs and how far they got",
)
OUTCOMES = Topic(
    "interview.outcomes.v1",
    PartitionKey.SUBJECT_KEY,
    6,
    "store.outcome_recorded: what the store did with each command event it applied",
    # Outcomes answer a waiting HTTP request within seconds and are derived from the domain
    # topics, so a day is ample; a rebuilt store derives them again instead of reading them.
    ONE_DAY,
)
KEYS = Topic(
    "interview.keys.v1",
    PartitionKey.CANDIDATE_ID,
    3,
    "candidate data keys (wrapped by PII_MASTER_KEY); a tombstone is an erasure",
    SHREDDING,
)
DEAD_LETTER = Topic(
    "interview.dead-letter.v1",
    PartitionKey.INTERVIEW_ID,
    1,
    "messages a consumer could not process, with the error and the original bytes",
    # Kept until someone redrives or discards them: a dead letter is a domain event not yet applied.
    FOREVER,
)

# No domain topic is compacted: each key (an interview, a candidate) carries a history of events,
# not one state, and compaction would keep only its last event.
DOMAIN_TOPICS: tuple[Topic, ...] = (
    CANDIDATES,
    QUESTIONS,
    INTERVIEWS,
    ANSWERS,
    EVALUATIONS,
    CHAT_MESSAGES,
    CHAT_REPLIES,
    REPLAYS,
)
# The outcomes topic is not a domain topic: the store writes it and does not read it back, and a
# store rebuilt from the log ignores it (outcomes are derived from the domain topics).
# The keys topic is not a domain topic either: it holds no events, only the data keys that
# seal the domain topics' personal fields (`interview_shared.keyring`).
ALL_TOPICS: tuple[Topic, ...] = (*DOMAIN_TOPICS, OUTCOMES, KEYS, DEAD_LETTER)

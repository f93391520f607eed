"""Deterministic ids of what the evaluator publishes, so a redelivery repeats the same ids.

Every id is a UUIDv5 under `NAMESPACE` (fixed forever: changing it would make every redelivered
answer a new evaluation). The name hashed is a `/`-joined path, so no two kinds can collide:

* evaluation id: `evaluation/{answer_id}/{scorer}/{rubric_version}` (plus `/{replay_id}` for a
  deliberate re-score, which must append rather than be taken for a redelivery);
* the `answer.evaluated` event id: `answer.evaluated/{evaluation_id}`;
* the `interview.evaluated` event id: `interview.evaluated/{interview_id}/{evaluation ids,
  sorted, comma-separated}`: the same report from any replica or after any restart is one event.

The store claims evaluation ids (a repeat is rejected `already_exists`, no second row) and
de-duplicates event ids (a repeat is a `duplicate` outcome), so judging an answer twice after a
crash between publish and commit is harmless without asking the store first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

NAMESPACE = uuid.UUID("6e67c02e-42bb-5176-bbd6-0c3b84fcf1a7")
"""uuid5(NAMESPACE_URL, "https://interview.example/evaluator/ids"), written out: it never moves."""


def evaluation_id(
    answer_id: uuid.UUID, *, scorer: str, rubric_version: str, replay_id: str | None = None
) -> uuid.UUID:
    """The id of the verdict of `scorer` under `rubric_version` on one answer."""
    name = f"evaluation/{answer_id}/{scorer}/{rubric_version}"
    return uuid.uuid5(NAMESPACE, name if replay_id is None else f"{name}/{replay_id}")


def answer_evaluated_event_id(evaluation: uuid.UUID) -> uuid.UUID:
    """The event id of the `answer.evaluated` carrying `evaluation`."""
    return uuid.uuid5(NAMESPACE, f"answer.evaluated/{evaluation}")


def interview_evaluated_event_id(
    interview_id: uuid.UUID, evaluation_ids: Iterable[uuid.UUID]
) -> uuid.UUID:
    """The event id of the report of `interview_id` built from exactly `evaluation_ids`."""
    joined = ",".join(sorted(str(e) for e in evaluation_ids))
    return uuid.uuid5(NAMESPACE, f"interview.evaluated/{interview_id}/{joined}")

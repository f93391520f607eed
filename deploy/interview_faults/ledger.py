"""The ledger: every answer the gateway acknowledged, and every answer to a POST, counted.

An answer counts as acknowledged only on a 201 or 202 with its id: that is the gateway's
promise. Anything else (a 503 with Retry-After, a refused connection while the gateway
restarts) is a request the client knows it must retry, so losing it is no loss.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Ledger:
    """What one scenario's load generator sent and what the gateway answered."""

    acknowledged: dict[uuid.UUID, float] = field(default_factory=dict)
    """Answer id -> wall-clock time of its acknowledgement."""
    sent: dict[uuid.UUID, float] = field(default_factory=dict)
    """Answer id -> wall-clock time its POST was started (end-to-end latency starts here)."""
    interview_of: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    """503s missing the Retry-After header: a client would not know when to come back."""

    def acknowledge(self, answer_id: uuid.UUID, interview_id: uuid.UUID, *, sent_at: float) -> None:
        """Record a 201/202 for `answer_id`, whose POST started at `sent_at` (wall clock)."""
        self.acknowledged[answer_id] = time.time()
        self.sent[answer_id] = sent_at
        self.interview_of[answer_id] = interview_id

    def answered(self, status: int, *, retry_after: str | None) -> None:
        """Record any HTTP answer to a POST."""
        self.statuses[status] += 1
        if status == 503 and not retry_after:
            self.unavailable_without_retry_after += 1

    def failed(self, error: BaseException) -> None:
        """Record a POST that got no HTTP answer at all."""
        self.transport_errors[type(error).__name__] += 1

    @property
    def server_errors(self) -> int:
        """Every 5xx answered (503s included)."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def internal_errors(self) -> int:
        """5xx other than 503: a fault the gateway did not turn into "retry later"."""
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)

    def interviews(self) -> set[uuid.UUID]:
        """The interviews the acknowledged answers belong to."""
        return set(self.interview_of.values())

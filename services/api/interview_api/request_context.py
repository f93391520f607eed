"""Who makes a write, and how its ids are made (fresh, or derived from an Idempotency-Key)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from interview_shared.auth import Principal

_IDS = uuid.UUID("7d3c4f0e-2b1a-4e4f-9a57-1f0c5e8b6a21")


@dataclass(frozen=True, slots=True)
class Context:
    """Who asks, under which correlation id and Idempotency-Key, on which route."""

    principal: Principal
    correlation_id: str
    route: str
    idempotency_key: str | None = None

    @property
    def org(self) -> str:
        """The caller's organisation: what it creates belongs there."""
        return self.principal.org

    def new_id(self, purpose: str) -> uuid.UUID:
        """A fresh id, or with an Idempotency-Key one derived from (caller, key, route): a repeat
        on any gateway replica publishes the same event id and resource id, which the store
        applies once (it is idempotent on event id), so repeats create nothing across replicas."""
        if self.idempotency_key is None:
            return uuid.uuid4()
        p = self.principal
        return uuid.uuid5(
            _IDS, "\x1f".join((p.org, p.sub, self.idempotency_key, self.route, purpose))
        )

"""A write while Kafka is down is a 503 with Retry-After, soon; never a 500 or a 2xx (issue 9 R2).

Found by the fault suite: with the broker SIGKILLed the gateway held each write for the
producer's 40 s request timeout and then answered 500. The same held for the candidate's data
key, written to the keys topic before the event (registration) or its tombstone (erasure).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError
from interview_api.commands import Commands
from interview_api.projection import Projection
from interview_api.request_context import Context
from interview_api.schemas import CandidateIn
from interview_shared.auth import Principal, Role
from interview_shared.domain import DEFAULT_ORG
from interview_shared.http import ApiError, error_response
from interview_shared.keyring import MemoryKeyRing
from interview_shared.messaging import EventPublisher
from interview_shared.outcomes import OutcomeHub


class HangingBroker:
    """A broker whose acknowledgement never comes (the broker is dead, the producer retries)."""

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        await asyncio.sleep(3600)


class FailingBroker:
    """A broker whose producer gives up (its request timeout expired)."""

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        raise KafkaTimeoutError()


_CTX = Context(
    principal=Principal(sub="admin", org=DEFAULT_ORG, role=Role.ADMIN),
    correlation_id="cid",
    route="POST /api/v1/candidates",
)


class HangingKeyRing(MemoryKeyRing):
    """A key ring whose writes to the keys topic are never acknowledged (the broker is dead)."""

    async def create(self, subject: uuid.UUID) -> bytes:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def destroy(self, subject: uuid.UUID) -> None:
        await asyncio.sleep(3600)


class OwnedCandidates:
    """A projection that knows every candidate as the default organisation's."""

    async def candidate_org(self, candidate_id: uuid.UUID) -> str:
        return DEFAULT_ORG


def _commands(broker: Any, keys: MemoryKeyRing | None = None) -> Commands:
    return Commands(
        projection=cast(Projection, OwnedCandidates()),
        outcomes=OutcomeHub(),
        publisher=EventPublisher(broker),
        keys=keys or MemoryKeyRing(),
        wait_s=1.0,
        publish_timeout_s=0.2,
    )


@pytest.mark.parametrize("broker", [HangingBroker(), FailingBroker()], ids=["hangs", "fails"])
async def test_a_write_the_broker_does_not_take_is_a_503_within_the_publish_timeout(
    broker: Any,
) -> None:
    began = time.monotonic()
    with pytest.raises(ApiError) as raised:
        await _commands(broker).register_candidate(
            CandidateIn(name="Ada", email="ada@example.com"), _CTX
        )
    assert raised.value.status == 503
    assert raised.value.code == "broker_unavailable"
    assert time.monotonic() - began < 1.0


async def test_a_data_key_the_broker_does_not_take_is_a_503_within_the_publish_timeout() -> None:
    commands = _commands(HangingBroker(), HangingKeyRing())
    began = time.monotonic()
    with pytest.raises(ApiError) as registering:
        await commands.register_candidate(CandidateIn(name="Ada", email="ada@example.com"), _CTX)
    with pytest.raises(ApiError) as erasing:
        await commands.erase_candidate(uuid.uuid4(), _CTX)
    assert [registering.value.status, erasing.value.status] == [503, 503]
    assert erasing.value.code == "broker_unavailable"
    assert time.monotonic() - began < 2.0


def test_every_503_says_when_to_retry() -> None:
    response = error_response(503, "broker_unavailable", "retry later")
    assert int(response.headers["retry-after"]) > 0
    assert "retry-after" not in error_response(409, "conflict", "no").headers

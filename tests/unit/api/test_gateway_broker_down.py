"""A write while Kafka is down is a 503 with Retry-After, soon; never a 500 or a 2xx (issue 9 R2).

Found by the fault suite: with the broker SIGKILLed the gateway held each write for the
producer's 40 s request timeout and then answered 500.
"""

from __future__ import annotations

import asyncio
import time
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


def _commands(broker: Any) -> Commands:
    return Commands(
        projection=cast(Projection, None),  # registering a candidate reads no projection
        outcomes=OutcomeHub(),
        publisher=EventPublisher(broker),
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


def test_every_503_says_when_to_retry() -> None:
    response = error_response(503, "broker_unavailable", "retry later")
    assert int(response.headers["retry-after"]) > 0
    assert "retry-after" not in error_response(409, "conflict", "no").headers

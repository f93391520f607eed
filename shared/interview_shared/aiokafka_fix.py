"""A write on a connection the broker has closed must be a connection error under uvloop too.

aiokafka 0.14's `AIOKafkaConnection.send` turns the `OSError` of a write on a broken socket into
`KafkaConnectionError`, which every caller handles. Under uvloop (uvicorn's loop when it is
installed, as in every service here) the same write raises `RuntimeError: unable to perform
operation on <TCPTransport closed=True ...>; the handler is closed` instead, and nothing catches
it (aio-libs/aiokafka#1038, open). Raised inside a client's metadata refresh, it ends that task
for good: every later refresh, and so the group coordinator lookup that waits on one while
holding the lock the heartbeat and every offset commit need, waits for ever. The fault suite
caught exactly that after the broker's restarts (docs/reliability.md). Until aiokafka handles
it, `install()` wraps `send` so that this error becomes the connection error it is.
"""

from __future__ import annotations

from typing import Any

from aiokafka.conn import AIOKafkaConnection, CloseReason
from aiokafka.errors import KafkaConnectionError

_original_send = AIOKafkaConnection.send


def _send(self: AIOKafkaConnection, request: Any, expect_response: bool = True) -> Any:
    try:
        return _original_send(self, request, expect_response=expect_response)
    except RuntimeError as err:
        writer = getattr(self, "_writer", None)
        if writer is None or not writer.transport.is_closing():
            raise  # not the closed transport: not ours to reinterpret
        self.close(reason=CloseReason.CONNECTION_BROKEN)
        raise KafkaConnectionError(f"Connection at {self.host}:{self.port} broken: {err}") from err


def install() -> None:
    """Patch `AIOKafkaConnection.send` once (idempotent)."""
    AIOKafkaConnection.send = _send

"""Under uvloop a write on a closed connection is a KafkaConnectionError, as under asyncio
(interview_shared.aiokafka_fix; aio-libs/aiokafka#1038)."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from aiokafka.conn import AIOKafkaConnection
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.metadata import MetadataRequest
from interview_shared import aiokafka_fix

_METADATA_API_KEY = 3


async def _send_on_a_closed_connection() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = AIOKafkaConnection("127.0.0.1", port)
        conn._reader, conn._writer = reader, writer
        conn._versions = {_METADATA_API_KEY: (0, 8)}
        writer.transport.close()  # the broker went away: the transport is closed under us
        await asyncio.sleep(0.05)
        # The send comes before the connection's reader has seen the end of the stream (the
        # window the fault suite hit): the reader task exists but has not run yet.
        conn._read_task = conn._create_reader_task()
        try:
            conn.send(MetadataRequest([]))
        finally:
            if conn._read_task is not None:  # the fix closes the connection, and its reader
                conn._read_task.cancel()
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


def test_uvloop_raises_runtime_error_there_unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the fix is for: the error nothing in aiokafka catches.
    monkeypatch.setattr(AIOKafkaConnection, "send", aiokafka_fix._original_send)
    with pytest.raises(RuntimeError, match="handler is closed"):
        uvloop.run(_send_on_a_closed_connection())


def test_with_the_fix_it_is_a_connection_error_the_client_handles() -> None:
    aiokafka_fix.install()
    with pytest.raises(KafkaConnectionError, match="broken"):
        uvloop.run(_send_on_a_closed_connection())

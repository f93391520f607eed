"""The memory store's catch-up tracking: ready only once the log has been replayed."""

from __future__ import annotations

from typing import Any

from aiokafka.structs import ConsumerRecord
from interview_shared.catchup import CatchUp
from support import consumer_record


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[Any, Any]:
    return consumer_record(topic=topic, partition=partition, offset=offset, value=b"")


def test_done_only_when_every_partition_reached_its_target() -> None:
    catch_up = CatchUp({("a", 0): 3, ("a", 1): 1, ("b", 0): 0})
    assert not catch_up.done
    catch_up.seen([record("a", 0, 0), record("a", 0, 1), record("a", 1, 0)])
    assert not catch_up.done
    catch_up.seen([record("a", 0, 2)])
    assert catch_up.done


def test_empty_log_and_no_targets_are_done_at_once() -> None:
    assert CatchUp().done
    assert CatchUp({("a", 0): 0}).done


def test_records_of_other_partitions_are_ignored() -> None:
    catch_up = CatchUp({("a", 0): 1})
    catch_up.seen([record("z", 9, 100)])
    assert not catch_up.done

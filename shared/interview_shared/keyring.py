"""Per-candidate data keys (the port and its in-memory implementation) and sealing events.

The keys live outside the event topics and outside any one store's database, so that every
reader of the log (a live store, one rebuilt from the log, the evaluator, a replay) can open
what was not erased, and nothing can open what was. `KafkaKeyRing` keeps them on a compacted
topic of their own; `MemoryKeyRing` is the same contract in a dict, for tests and tools.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from interview_shared import pii
from interview_shared.events import EventEnvelope

E = TypeVar("E", bound=EventEnvelope)


class KeyRing(Protocol):
    """Data keys by candidate id: created once, read by every service, destroyed on erasure."""

    async def key(self, subject: uuid.UUID) -> bytes | None:
        """The subject's data key, or None if it never had one or it was destroyed."""
        ...

    async def create(self, subject: uuid.UUID) -> bytes:
        """The subject's data key, made and kept durably first if it has none yet."""
        ...

    async def destroy(self, subject: uuid.UUID) -> None:
        """Destroy the subject's key for good (durably, on every replica, before returning)."""
        ...

    def erased(self, subject: uuid.UUID) -> bool:
        """Whether this ring has seen the subject's key destroyed."""
        ...


class MemoryKeyRing:
    """A key ring in a dict: one process's truth, nothing kept."""

    def __init__(self) -> None:
        self._keys: dict[uuid.UUID, bytes] = {}
        self._destroyed: set[uuid.UUID] = set()

    async def key(self, subject: uuid.UUID) -> bytes | None:
        """The subject's data key, or None."""
        return self._keys.get(subject)

    async def create(self, subject: uuid.UUID) -> bytes:
        """The subject's key, made if it has none (a destroyed subject never gets one back)."""
        if subject in self._destroyed:
            raise KeyDestroyedError(subject)
        return self._keys.setdefault(subject, pii.new_data_key())

    async def destroy(self, subject: uuid.UUID) -> None:
        """Forget the subject's key."""
        self._keys.pop(subject, None)
        self._destroyed.add(subject)

    def erased(self, subject: uuid.UUID) -> bool:
        """Whether the subject's key was destroyed."""
        return subject in self._destroyed


class KeyDestroyedError(LookupError):
    """A key was asked for a subject that has been erased: its data must not be written."""

    def __init__(self, subject: uuid.UUID) -> None:
        super().__init__(f"the data key of {subject} was destroyed")
        self.subject = subject


class Privacy:
    """Seals events' personal fields before they are published and opens them when read.

    Built with the composition root's other parts; its ring may be given later, once the
    lifespan has started it (`interview_shared.keyring_kafka.following_keys`).
    """

    def __init__(self, ring: KeyRing | None = None, *, creates_keys: bool = False) -> None:
        self._ring = ring
        self._creates_keys = creates_keys
        """The gateway's: a subject without a key (registered before keys existed) gets one
        when it is first sealed for, instead of going out blank."""

    @property
    def ring(self) -> KeyRing:
        """The key ring in use."""
        if self._ring is None:
            raise RuntimeError("the key ring is not started yet")
        return self._ring

    @ring.setter
    def ring(self, ring: KeyRing) -> None:
        self._ring = ring

    async def seal(self, event: E) -> E:
        """`event` with its personal fields sealed under its subject's key.

        An event of a subject without a key (erased meanwhile) goes out with those fields
        blank: what is gone must not come back through a late write.
        """
        subject = event.data_subject
        if subject is None or not event.pii_fields:
            return event
        key = await self._key_to_seal_with(subject)

        def seal_one(field: str, value: str) -> str:
            if key is None:
                return pii.ERASED
            return pii.seal(value, key=key, subject=subject, field=field)

        return _with_fields(event, seal_one)

    async def _key_to_seal_with(self, subject: uuid.UUID) -> bytes | None:
        if not self._creates_keys:
            return await self.ring.key(subject)
        try:
            return await self.ring.create(subject)
        except KeyDestroyedError:
            return None

    async def open(self, event: E) -> tuple[E, bool]:
        """`event` with its personal fields opened, and whether any could not be."""
        subjects = _subjects(event)
        if not subjects:
            return event, False
        keys = {s: await self.ring.key(s) for s in subjects}
        lost = False

        def open_one(field: str, value: str) -> str:
            nonlocal lost
            if not pii.is_sealed(value):
                return value
            subject = pii.subject_of(value)
            plain = pii.unseal(value, key=keys.get(subject) if subject else None, field=field)
            if plain is None:
                lost = True
                return pii.ERASED
            return plain

        return _with_fields(event, open_one), lost

    async def seal_file(self, subject: uuid.UUID, data: bytes) -> bytes:
        """A file of the subject's, encrypted with their key (which must exist)."""
        key = await self.ring.key(subject)
        if key is None:
            raise KeyDestroyedError(subject)
        return pii.seal_bytes(data, key=key, subject=subject)

    async def open_file(self, blob: bytes) -> bytes | None:
        """A kept file in plain (one kept in plain before sealing passes as it is), or None
        if its subject was erased."""
        subject = pii.blob_subject(blob)
        if subject is None:
            return blob
        return pii.unseal_bytes(blob, key=await self.ring.key(subject))

    async def open_all(self, events: Sequence[E]) -> list[tuple[E, bool]]:
        """`open` for each event, in order."""
        return [await self.open(event) for event in events]


def _subjects(event: EventEnvelope) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()

    def note(value: str) -> str:
        if pii.is_sealed(value) and (subject := pii.subject_of(value)) is not None:
            found.add(subject)
        return value

    for field in event.pii_fields:
        pii.map_strings(getattr(event, field), note)
    return found


def _with_fields(event: E, change: _FieldChange) -> E:
    def changed(field: str) -> Any:
        return pii.map_strings(getattr(event, field), lambda value: change(field, value))

    return event.model_copy(update={field: changed(field) for field in event.pii_fields})


class _FieldChange(Protocol):
    def __call__(self, field: str, value: str, /) -> str: ...

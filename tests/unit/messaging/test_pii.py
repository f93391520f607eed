"""Sealing personal fields: tokens, keys per candidate, and what reading without a key gives."""

from __future__ import annotations

import uuid

import pytest
from interview_shared import pii
from interview_shared.events import (
    AnswerSubmitted,
    CandidateRegistered,
    CvAnalyzed,
    QuestionSnapshot,
    decode_event,
    encode_event,
)
from interview_shared.keyring import KeyDestroyedError, MemoryKeyRing, Privacy
from interview_shared.keyring_kafka import KeyWrapper
from interview_shared.messaging import EventPublisher

ADA = uuid.uuid4()


def registration(subject: uuid.UUID = ADA) -> CandidateRegistered:
    return CandidateRegistered(
        candidate_id=subject, data_subject=subject, name="Ada Lovelace", email="ada@example.com"
    )


def test_a_token_opens_only_with_its_key_for_its_field() -> None:
    key, other = pii.new_data_key(), pii.new_data_key()
    token = pii.seal("Ada", key=key, subject=ADA, field="name")

    assert token.startswith(pii.PREFIX)
    assert "Ada" not in token
    assert pii.subject_of(token) == ADA
    assert pii.unseal(token, key=key, field="name") == "Ada"
    assert pii.unseal(token, key=other, field="name") is None
    assert pii.unseal(token, key=key, field="email") is None  # moved to another field
    assert pii.unseal(token, key=None, field="name") is None
    assert pii.seal(token, key=key, subject=ADA, field="name") == token  # never twice


def test_a_tampered_token_does_not_open() -> None:
    key = pii.new_data_key()
    token = pii.seal("Ada", key=key, subject=ADA, field="name")
    middle = len(token) // 2  # a ciphertext byte (the end may be base64 padding)
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    assert pii.unseal(flipped, key=key, field="name") is None
    assert pii.unseal("pii1:not-base64!", key=key, field="name") is None


async def test_sealed_events_keep_their_schema_and_open_back() -> None:
    privacy = Privacy(MemoryKeyRing())
    await privacy.ring.create(ADA)
    cv = CvAnalyzed(
        candidate_id=ADA,
        data_subject=ADA,
        skills={"python": {"years": 6, "evidence": "six years of Python at Babbage Ltd"}},
        summary="Ada, a Python engineer",
    )

    registered = registration()
    sealed = [await privacy.seal(registered), await privacy.seal(cv)]
    wire = [encode_event(e) for e in sealed]
    assert all(b"Ada" not in w and b"Babbage" not in w for w in wire)
    assert b'"years":6' in wire[1]  # numbers are not personal text: they stay as they are

    opened = [await privacy.open(decode_event(w)) for w in wire]
    assert opened == [(registered, False), (cv, False)]


async def test_without_the_key_personal_fields_read_blank_and_say_so() -> None:
    ring = MemoryKeyRing()
    privacy = Privacy(ring)
    await ring.create(ADA)
    sealed = await privacy.seal(registration())
    await ring.destroy(ADA)

    opened, erased = await privacy.open(sealed)

    assert erased
    assert (opened.name, opened.email) == ("", "")
    assert ring.erased(ADA)
    with pytest.raises(KeyDestroyedError):
        await ring.create(ADA)  # an erased candidate never gets a key back
    late, _ = await privacy.open(await privacy.seal(registration()))
    assert late.name == ""  # a late write of an erased candidate writes nothing of them


async def test_events_without_a_subject_are_not_sealed() -> None:
    privacy = Privacy(MemoryKeyRing())
    answer = AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=uuid.uuid4(),
        text="a lock",
        question=QuestionSnapshot(question_id=uuid.uuid4(), text="What is a mutex?"),
    )
    assert await privacy.seal(answer) == answer
    assert await privacy.open(answer) == (answer, False)


async def test_the_publisher_keys_a_registration_by_its_plain_e_mail() -> None:
    sent: list[tuple[bytes, bytes | None]] = []

    class Broker:
        async def publish(
            self,
            message: bytes,
            topic: str = "",
            *,
            key: bytes | None = None,
            headers: dict[str, str] | None = None,
        ) -> None:
            sent.append((message, key))

    privacy = Privacy(MemoryKeyRing())
    await privacy.ring.create(ADA)
    await EventPublisher(Broker(), privacy=privacy).publish(registration())

    ((message, key),) = sent
    assert b"ada@example.com" not in message
    assert key == registration().key.encode()  # registrations of one address share a partition


def test_wrapped_keys_open_only_with_the_master_key() -> None:
    key = pii.new_data_key()
    wrapper, other = KeyWrapper("a" * 40), KeyWrapper("b" * 40)
    record = wrapper.wrap(ADA, key)

    assert "key" not in record
    assert record["kek"] == wrapper.fingerprint
    assert wrapper.unwrap(ADA, record) == key
    assert other.unwrap(ADA, record) is None
    assert KeyWrapper(None).unwrap(ADA, KeyWrapper(None).wrap(ADA, key)) == key


async def test_the_gateway_makes_a_key_for_a_candidate_registered_before_keys_existed() -> None:
    ring = MemoryKeyRing()
    answer = AnswerSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=uuid.uuid4(),
        text="a lock",
        question=QuestionSnapshot(question_id=uuid.uuid4(), text="What is a mutex?"),
        data_subject=ADA,
    )

    sealed = await Privacy(ring, creates_keys=True).seal(answer)

    assert pii.is_sealed(sealed.text)  # not blank: the words are kept, sealed
    assert await Privacy(ring).open(sealed) == (answer, False)
    await ring.destroy(ADA)
    late = await Privacy(ring, creates_keys=True).seal(answer)
    assert late.text == ""  # but an erased candidate never gets a key back

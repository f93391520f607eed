"""Field-level encryption of personal data in events, with one data key per candidate.

Crypto-shredding: every personal field of an event (a name, an e-mail, an answer's text, what
a candidate wrote in chat, what their CV says) goes on the log sealed with its candidate's data
key. The log stays immutable and replayable, and erasing a candidate is destroying that key:
every copy of their data in every topic, dead letter and backup becomes unreadable at once.

A sealed value is a string, so events keep their schema: ``pii1:`` then base64url of the
subject's 16-byte id, a 12-byte nonce and the AES-256-GCM ciphertext with its tag. The token
names its subject, so a reader needs nothing else to find the key; the subject and the field's
name are the associated data, so a token cannot be moved to another candidate or field.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pii1:"
ERASED = ""
"""What a personal field reads as once its key is gone (the store's scrub writes the same)."""
KEY_BYTES = 32
_NONCE_BYTES = 12


def new_data_key() -> bytes:
    """A fresh random AES-256 data key."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def is_sealed(value: object) -> bool:
    """Whether `value` is a sealed token."""
    return isinstance(value, str) and value.startswith(PREFIX)


def subject_of(token: str) -> uuid.UUID | None:
    """The candidate a sealed token belongs to (None if it is not a well-formed token)."""
    raw = _unpack(token)
    return None if raw is None else uuid.UUID(bytes=raw[:16])


def seal(plaintext: str, *, key: bytes, subject: uuid.UUID, field: str) -> str:
    """Encrypt `plaintext` of `field` for `subject` (a sealed value is left as it is)."""
    if is_sealed(plaintext):
        return plaintext
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), _aad(subject, field))
    return PREFIX + base64.urlsafe_b64encode(subject.bytes + nonce + ciphertext).decode()


def unseal(token: str, *, key: bytes | None, field: str) -> str | None:
    """The plaintext of a sealed token, or None if its key is gone or it does not verify."""
    raw = _unpack(token)
    if raw is None or key is None:
        return None
    subject, nonce, ciphertext = raw[:16], raw[16 : 16 + _NONCE_BYTES], raw[16 + _NONCE_BYTES :]
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, _aad(uuid.UUID(bytes=subject), field))
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


BLOB_MAGIC = b"pii1"


def seal_bytes(data: bytes, *, key: bytes, subject: uuid.UUID) -> bytes:
    """A file of `subject`'s (a recording, a CV) encrypted with their key, self-describing."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, data, _aad(subject, "blob"))
    return BLOB_MAGIC + subject.bytes + nonce + sealed


def blob_subject(blob: bytes) -> uuid.UUID | None:
    """The subject a sealed file belongs to (None: a file kept in plain, from before)."""
    if not blob.startswith(BLOB_MAGIC) or len(blob) < len(BLOB_MAGIC) + 16 + _NONCE_BYTES:
        return None
    return uuid.UUID(bytes=blob[len(BLOB_MAGIC) : len(BLOB_MAGIC) + 16])


def unseal_bytes(blob: bytes, *, key: bytes | None) -> bytes | None:
    """The plain file, or None if its key is gone or it does not verify."""
    subject = blob_subject(blob)
    if subject is None or key is None:
        return None
    start = len(BLOB_MAGIC) + 16
    nonce, sealed = blob[start : start + _NONCE_BYTES], blob[start + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, sealed, _aad(subject, "blob"))
    except InvalidTag:
        return None


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """`value` with `change` applied to every string inside it (dict keys are kept)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {k: map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(map_strings(v, change) for v in value)
    return value


def _aad(subject: uuid.UUID, field: str) -> bytes:
    return b"pii1|" + subject.bytes + b"|" + field.encode()


def _unpack(token: str) -> bytes | None:
    if not token.startswith(PREFIX):
        return None
    try:
        raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
    except ValueError:
        return None
    return raw if len(raw) > 16 + _NONCE_BYTES else None

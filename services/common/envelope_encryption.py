"""Envelope encryption of personal data, for erasure by crypto-shredding (docs/privacy.md).

Each subject has its own 256-bit data key. A payload is sealed with AES-256-GCM under that key, with a
random 96-bit nonce and associated data naming what it belongs to (the referral id or subject key), so a
sealed value moved onto another record does not open. The data key is stored only wrapped (AES key wrap,
RFC 3394) by a key-encryption key (KEK) from settings, under the KEK's id, so the KEK can be rotated
without rewriting the log: the ring keeps the previous KEKs to unwrap what they wrapped. Destroying a
subject's wrapped data key makes everything sealed under it unreadable for good.

Pure: no I/O, no settings. NOT YET WIRED into any service, topic or store (docs/privacy.md, "Not yet built").
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

KEY_BYTES: Final = 32
"""AES-256: data keys and KEKs alike."""
NONCE_BYTES: Final = 12
"""96 bits, random per seal (GCM's recommended nonce size)."""
SEALED_VERSION: Final = b"\x01"
"""The first byte of every sealed value: version 1 is `version | nonce | AES-GCM ciphertext and tag`."""
_TAG_BYTES: Final = 16
_AAD_PREFIX: Final = b"sosafe-personal-data-v1\x00"
"""Bound into every seal's associated data, so a sealed value is never mistaken for another format's."""
WRAPPED_KEY_BYTES: Final = KEY_BYTES + 8
"""A 256-bit key wrapped by RFC 3394 is 40 bytes."""


class EnvelopeError(Exception):
    """Personal data that cannot be opened. Messages name ids and causes, never the data."""


class DataKeyErased(EnvelopeError):
    """The subject's data key has been destroyed (crypto-shredded): their sealed data is gone for good."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"the data key of subject {subject} has been erased")
        self.subject = subject


class UnknownKekId(EnvelopeError):
    """A data key was wrapped by a KEK the ring no longer (or never) held."""

    def __init__(self, kek_id: str) -> None:
        super().__init__(f"no key-encryption key with id {kek_id!r} in the ring")
        self.kek_id = kek_id


class UnwrapFailed(EnvelopeError):
    """A wrapped data key failed its integrity check: tampered, or wrapped by another key under that id."""


class OpenFailed(EnvelopeError):
    """A sealed value failed to open: tampered, truncated, another key, or other associated data."""


def _check_key(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes, not {len(key)}")


@dataclass(frozen=True)
class KeyEncryptionKey:
    """One KEK and its id (the id is stored beside every key it wraps; the key never is)."""

    kek_id: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.kek_id:
            raise ValueError("a key-encryption key needs an id")
        _check_key(self.key, "a key-encryption key")


@dataclass(frozen=True)
class KekRing:
    """The current KEK, which wraps every new data key, and the previous ones, which only unwrap."""

    current: KeyEncryptionKey
    previous: tuple[KeyEncryptionKey, ...] = ()

    def __post_init__(self) -> None:
        ids = [kek.kek_id for kek in (self.current, *self.previous)]
        if len(set(ids)) != len(ids):
            raise ValueError("key-encryption key ids in a ring must differ")

    def find(self, kek_id: str) -> KeyEncryptionKey:
        for kek in (self.current, *self.previous):
            if kek.kek_id == kek_id:
                return kek
        raise UnknownKekId(kek_id)

    def rotated_to(self, new: KeyEncryptionKey) -> KekRing:
        """The ring after a rotation: `new` wraps from now on, the old current joins the previous ones."""
        return KekRing(current=new, previous=(self.current, *self.previous))


@dataclass(frozen=True)
class WrappedDataKey:
    """A subject's data key as stored (on the key topic, in caches): wrapped, with its KEK's id."""

    kek_id: str
    wrapped: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.wrapped) != WRAPPED_KEY_BYTES:
            raise ValueError(f"a wrapped data key is {WRAPPED_KEY_BYTES} bytes, not {len(self.wrapped)}")


def new_data_key() -> bytes:
    """A fresh random 256-bit data key, for one subject."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def wrap(data_key: bytes, ring: KekRing) -> WrappedDataKey:
    """The data key wrapped by the ring's current KEK (RFC 3394)."""
    _check_key(data_key, "a data key")
    return WrappedDataKey(kek_id=ring.current.kek_id, wrapped=aes_key_wrap(ring.current.key, data_key))


def unwrap(wrapped: WrappedDataKey, ring: KekRing) -> bytes:
    """The data key, unwrapped by whichever KEK of the ring wrapped it."""
    try:
        return aes_key_unwrap(ring.find(wrapped.kek_id).key, wrapped.wrapped)
    except InvalidUnwrap as error:
        raise UnwrapFailed(f"the data key wrapped under {wrapped.kek_id!r} failed its integrity check") from error


def data_key_of(subject: str, stored: Mapping[str, WrappedDataKey | None], ring: KekRing) -> bytes:
    """The subject's data key from the stored wrapped keys; a missing key or a tombstone (None) means
    the subject was erased (or never had data sealed): `DataKeyErased`."""
    wrapped = stored.get(subject)
    if wrapped is None:
        raise DataKeyErased(subject)
    return unwrap(wrapped, ring)


def seal(plaintext: bytes, data_key: bytes, associated_data: bytes) -> bytes:
    """`plaintext` encrypted and authenticated under the data key (AES-256-GCM, random nonce), bound to
    `associated_data` (the record it belongs to, e.g. the referral id): needed again to open it."""
    _check_key(data_key, "a data key")
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _AAD_PREFIX + associated_data)
    return SEALED_VERSION + nonce + ciphertext


def open_sealed(sealed: bytes, data_key: bytes, associated_data: bytes) -> bytes:
    """The plaintext of a sealed value; `OpenFailed` unless key, associated data and bytes all match."""
    _check_key(data_key, "a data key")
    if len(sealed) < 1 + NONCE_BYTES + _TAG_BYTES or sealed[:1] != SEALED_VERSION:
        raise OpenFailed("not a sealed value of version 1")
    nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, ciphertext, _AAD_PREFIX + associated_data)
    except InvalidTag as error:
        raise OpenFailed("the sealed value failed authentication (tampered, other key or other record)") from error

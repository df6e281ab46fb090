"""Envelope encryption of personal data: seal and open, wrap and unwrap, KEK rotation, erased keys."""

from __future__ import annotations

import os

import pytest

from services.common.envelope_encryption import (
    KEY_BYTES,
    NONCE_BYTES,
    DataKeyErased,
    KekRing,
    KeyEncryptionKey,
    OpenFailed,
    UnknownKekId,
    UnwrapFailed,
    WrappedDataKey,
    data_key_of,
    new_data_key,
    open_sealed,
    seal,
    unwrap,
    wrap,
)

PERSONAL = b'{"given_name": "Zebedee", "family_name": "Quartermaine-Example", "date_of_birth": "2001-04-03"}'
REFERRAL = b"4e2f8a10-0000-5000-8000-000000000001"


def kek(kek_id: str) -> KeyEncryptionKey:
    return KeyEncryptionKey(kek_id=kek_id, key=os.urandom(KEY_BYTES))


def test_a_sealed_value_opens_with_its_key_and_associated_data() -> None:
    data_key = new_data_key()

    sealed = seal(PERSONAL, data_key, REFERRAL)

    assert open_sealed(sealed, data_key, REFERRAL) == PERSONAL


def test_a_sealed_value_does_not_hold_the_plaintext_or_any_part_of_it() -> None:
    sealed = seal(PERSONAL, new_data_key(), REFERRAL)

    assert PERSONAL not in sealed
    assert b"Zebedee" not in sealed
    assert b"Quartermaine" not in sealed
    assert b"2001-04-03" not in sealed


def test_each_seal_uses_a_fresh_nonce() -> None:
    data_key = new_data_key()

    first, second = seal(PERSONAL, data_key, REFERRAL), seal(PERSONAL, data_key, REFERRAL)

    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]
    assert first != second


def test_other_associated_data_does_not_open_it() -> None:
    data_key = new_data_key()
    sealed = seal(PERSONAL, data_key, REFERRAL)

    with pytest.raises(OpenFailed):
        open_sealed(sealed, data_key, b"4e2f8a10-0000-5000-8000-000000000002")


def test_another_data_key_does_not_open_it() -> None:
    sealed = seal(PERSONAL, new_data_key(), REFERRAL)

    with pytest.raises(OpenFailed):
        open_sealed(sealed, new_data_key(), REFERRAL)


@pytest.mark.parametrize("position", [0, 1, NONCE_BYTES, NONCE_BYTES + 5, -1])
def test_a_tampered_byte_anywhere_is_refused(position: int) -> None:
    data_key = new_data_key()
    sealed = bytearray(seal(PERSONAL, data_key, REFERRAL))
    sealed[position] ^= 0x01

    with pytest.raises(OpenFailed):
        open_sealed(bytes(sealed), data_key, REFERRAL)


def test_a_truncated_value_is_refused() -> None:
    data_key = new_data_key()
    sealed = seal(PERSONAL, data_key, REFERRAL)

    with pytest.raises(OpenFailed):
        open_sealed(sealed[:-1], data_key, REFERRAL)
    with pytest.raises(OpenFailed):
        open_sealed(sealed[: 1 + NONCE_BYTES], data_key, REFERRAL)


def test_a_wrapped_data_key_unwraps_to_itself_and_names_its_kek() -> None:
    ring = KekRing(current=kek("kek-2026-01"))
    data_key = new_data_key()

    wrapped = wrap(data_key, ring)

    assert wrapped.kek_id == "kek-2026-01"
    assert data_key not in wrapped.wrapped
    assert unwrap(wrapped, ring) == data_key


def test_a_data_key_wrapped_before_a_rotation_still_unwraps_after_it() -> None:
    ring = KekRing(current=kek("kek-2026-01"))
    data_key = new_data_key()
    sealed = seal(PERSONAL, data_key, REFERRAL)
    wrapped_before = wrap(data_key, ring)

    rotated = ring.rotated_to(kek("kek-2026-07"))

    assert rotated.current.kek_id == "kek-2026-07"
    assert [previous.kek_id for previous in rotated.previous] == ["kek-2026-01"]
    assert open_sealed(sealed, unwrap(wrapped_before, rotated), REFERRAL) == PERSONAL
    assert wrap(new_data_key(), rotated).kek_id == "kek-2026-07"


def test_a_kek_dropped_from_the_ring_is_named_when_needed() -> None:
    old = KekRing(current=kek("kek-2025-07"))
    wrapped = wrap(new_data_key(), old)
    without_it = KekRing(current=kek("kek-2026-01"))

    with pytest.raises(UnknownKekId, match="kek-2025-07"):
        unwrap(wrapped, without_it)


def test_a_different_key_under_the_same_kek_id_fails_to_unwrap() -> None:
    wrapped = wrap(new_data_key(), KekRing(current=kek("kek-2026-01")))

    with pytest.raises(UnwrapFailed):
        unwrap(wrapped, KekRing(current=kek("kek-2026-01")))


def test_a_tampered_wrapped_key_fails_to_unwrap() -> None:
    ring = KekRing(current=kek("kek-2026-01"))
    wrapped = wrap(new_data_key(), ring)
    flipped = bytes([wrapped.wrapped[0] ^ 0x01]) + wrapped.wrapped[1:]

    with pytest.raises(UnwrapFailed):
        unwrap(WrappedDataKey(kek_id="kek-2026-01", wrapped=flipped), ring)


def test_an_erased_subject_has_no_data_key_and_says_so() -> None:
    ring = KekRing(current=kek("kek-2026-01"))
    data_key = new_data_key()
    sealed = seal(PERSONAL, data_key, REFERRAL)
    stored: dict[str, WrappedDataKey | None] = {"subject-a": wrap(data_key, ring)}
    assert open_sealed(sealed, data_key_of("subject-a", stored, ring), REFERRAL) == PERSONAL

    stored["subject-a"] = None  # the tombstone on the key topic

    with pytest.raises(DataKeyErased, match="subject-a") as erased:
        data_key_of("subject-a", stored, ring)
    assert erased.value.subject == "subject-a"
    with pytest.raises(DataKeyErased):
        data_key_of("subject-a", {}, ring)  # compacted away: no key at all


def test_keys_of_the_wrong_size_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyEncryptionKey(kek_id="short", key=os.urandom(16))
    with pytest.raises(ValueError, match="an id"):
        KeyEncryptionKey(kek_id="", key=os.urandom(KEY_BYTES))
    with pytest.raises(ValueError, match="32 bytes"):
        seal(PERSONAL, os.urandom(16), REFERRAL)
    with pytest.raises(ValueError, match="32 bytes"):
        wrap(os.urandom(16), KekRing(current=kek("kek-2026-01")))
    with pytest.raises(ValueError, match="40 bytes"):
        WrappedDataKey(kek_id="kek-2026-01", wrapped=b"\x00" * 16)


def test_a_ring_refuses_two_keks_with_one_id() -> None:
    ring = KekRing(current=kek("kek-2026-01"))

    with pytest.raises(ValueError, match="differ"):
        ring.rotated_to(kek("kek-2026-01"))


def test_key_material_stays_out_of_reprs() -> None:
    key_encryption_key = kek("kek-2026-01")
    wrapped = wrap(new_data_key(), KekRing(current=key_encryption_key))

    assert repr(key_encryption_key.key) not in repr(key_encryption_key)
    assert repr(wrapped.wrapped) not in repr(wrapped)

"""Audit key settings: parsed strictly, the key id in every signed event, the secret never in an error."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.common.audit_keys import AuditKeyring, AuditKeysInvalid, parse_keys
from services.common.settings import CommonSettings


def test_a_previous_key_list_is_parsed_into_ids_and_secrets() -> None:
    assert parse_keys("k1:secret-one, k2:secret:with:colons") == {"k1": b"secret-one", "k2": b"secret:with:colons"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("k1", "audit key entry 1 is not id:secret"),
        ("k1:a,bad id:b", "audit key entry 2 is not id:secret"),
        ("k1:a,k1:b", "audit key id 'k1' appears twice"),
    ],
)
def test_a_malformed_key_list_is_refused_naming_the_entry_not_the_secret(spec: str, message: str) -> None:
    with pytest.raises(AuditKeysInvalid, match=message) as raised:
        parse_keys(spec)
    assert "secret" not in str(raised.value).replace("id:secret", "")


def test_the_current_key_id_may_not_also_be_a_previous_one() -> None:
    with pytest.raises(AuditKeysInvalid, match="both current and previous"):
        AuditKeyring.of("k1", "new", previous="k1:old")


def test_settings_build_the_keyring_and_refuse_a_bad_key_list_at_start() -> None:
    settings = CommonSettings(audit_key="current-secret", audit_key_id="intake-2", audit_keys_previous="intake-1:old")
    keyring = settings.audit_keyring
    assert keyring.signing_id == "intake-2" and set(keyring.keys) == {"intake-1", "intake-2"}
    with pytest.raises(ValidationError, match="audit key entry 1 is not id:secret"):
        CommonSettings(audit_keys_previous="no-colon-here")

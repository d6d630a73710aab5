from __future__ import annotations

import pytest

from scrm.core.secrets import SecretBox, SecretDecryptionError


def test_round_trip_and_context_binding() -> None:
    box = SecretBox("k" * 40)
    stored = box.encrypt({"contact_secret": "s3cret", "token": "中文"}, tenant_id=1, purpose="connection:7")
    assert "s3cret" not in stored
    assert box.decrypt(stored, tenant_id=1, purpose="connection:7") == {
        "contact_secret": "s3cret",
        "token": "中文",
    }
    with pytest.raises(SecretDecryptionError):
        box.decrypt(stored, tenant_id=2, purpose="connection:7")
    with pytest.raises(SecretDecryptionError):
        box.decrypt(stored, tenant_id=1, purpose="connection:8")
    with pytest.raises(SecretDecryptionError):
        SecretBox("z" * 40).decrypt(stored, tenant_id=1, purpose="connection:7")
    with pytest.raises(SecretDecryptionError):
        box.decrypt(stored[:-4] + "AAAA", tenant_id=1, purpose="connection:7")


def test_each_encryption_is_fresh() -> None:
    box = SecretBox("k" * 40)
    assert box.encrypt({"a": 1}, tenant_id=1, purpose="p") != box.encrypt({"a": 1}, tenant_id=1, purpose="p")

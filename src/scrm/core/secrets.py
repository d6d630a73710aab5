"""Secrets at rest (platform credentials, tokens): AES-256-GCM under a key derived from SCRM_SECRET_KEY.

Stored form: ``v1.<base64url(nonce || ciphertext+tag)>``. The tenant id and the purpose are bound in
as associated data, so a value copied into another tenant's row or another column does not decrypt.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


class SecretDecryptionError(Exception):
    """A stored secret could not be decrypted (wrong key, tampered, or moved between records)."""


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"scrm-secrets", info=b"v1").derive(
            secret_key.encode()
        )
        self._aead = AESGCM(derived)

    def encrypt(self, value: dict[str, Any], *, tenant_id: int | None, purpose: str) -> str:
        nonce = os.urandom(12)
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = self._aead.encrypt(nonce, data, f"{tenant_id}:{purpose}".encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, *, tenant_id: int | None, purpose: str) -> dict[str, Any]:
        version, _, body = stored.partition(".")
        if version != _VERSION:
            raise SecretDecryptionError(f"unknown secret format {version!r}")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            plain = self._aead.decrypt(raw[:12], raw[12:], f"{tenant_id}:{purpose}".encode())
        except (InvalidTag, ValueError) as exc:
            raise SecretDecryptionError("secret does not decrypt with this key and context") from exc
        value: dict[str, Any] = json.loads(plain)
        return value

"""Phone numbers at rest: encrypted for display, matched by a keyed hash, masked for most roles.

A phone identity stores `value` = HMAC-SHA256(key, "<tenant id>:<normalised number>") and
`value_encrypted` = the number sealed by `SecretBox` (purpose "customer.phone"). The HMAC key is
derived from SCRM_SECRET_KEY (HKDF, its own label), so the hash matches the same number within a
tenant, says nothing across tenants, and cannot be reversed by enumerating numbers without the key.

The process's vault is configured by the app factory (`configure_phone_vault`); a worker process
that never built an app builds it from the environment on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scrm.core.secrets import SecretBox, SecretDecryptionError

PURPOSE = "customer.phone"
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidPhone(ValueError):
    """Not something we can store as a phone number."""


def normalize_phone(raw: str) -> str:
    """Digits only, mainland mobiles without +86/0086; other numbers keep a leading "+".

    Raises InvalidPhone for anything with fewer than 6 or more than 15 digits, or letters."""
    text = re.sub(r"[\s\-().]", "", str(raw or ""))
    plus = text.startswith("+")
    digits = text.lstrip("+")
    if digits.startswith("00"):
        digits, plus = digits[2:], True
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise InvalidPhone(f"{raw!r} is not a phone number")
    if digits.startswith("86") and _CN_MOBILE.fullmatch(digits[2:]):
        return digits[2:]
    if not plus and _CN_MOBILE.fullmatch(digits):
        return digits
    return f"+{digits}" if plus else digits


def looks_like_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except InvalidPhone:
        return False
    return True


def mask_phone(number: str) -> str:
    """138****0000: the first three and last four digits."""
    prefix = "+" if number.startswith("+") else ""
    digits = number.lstrip("+")
    if len(digits) <= 7:
        return prefix + digits[:2] + "*" * (len(digits) - 2)
    return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


class PhoneVault:
    def __init__(self, secret_key: str) -> None:
        self._box = SecretBox(secret_key)
        self._hash_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"scrm-phone-hash", info=b"v1"
        ).derive(secret_key.encode())

    def hash(self, tenant_id: int, number: str) -> str:
        """The matching key of a number (normalise it first)."""
        message = f"{tenant_id}:{number}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def seal(self, tenant_id: int, number: str) -> str:
        return self._box.encrypt({"phone": number}, tenant_id=tenant_id, purpose=PURPOSE)

    def open(self, tenant_id: int, sealed: str) -> str | None:
        """The number, or None if it does not decrypt (a changed secret key)."""
        try:
            return str(self._box.decrypt(sealed, tenant_id=tenant_id, purpose=PURPOSE)["phone"])
        except (SecretDecryptionError, KeyError):
            return None


_lock = threading.Lock()
_vault: PhoneVault | None = None


def configure_phone_vault(secret_key: str) -> PhoneVault:
    """Install the vault for this process (the app factory calls this)."""
    global _vault
    with _lock:
        _vault = PhoneVault(secret_key)
        return _vault


def phone_vault() -> PhoneVault:
    """The installed vault, or one built from the environment's settings on first use."""
    if _vault is not None:
        return _vault
    from scrm.settings import load_settings

    return configure_phone_vault(load_settings().resolved_secret_key)

"""WeCom callback crypto (WXBizMsgCrypt), written here from the published scheme.

- Signature: lowercase hex SHA-1 of the lexicographically sorted strings
  [token, timestamp, nonce, encrypted] concatenated without separators.
- Key: base64-decode(EncodingAESKey + "="), 32 bytes; AES-256-CBC with IV = key[:16].
- Plaintext: 16 random bytes || uint32 big-endian length || message || receiveid, padded with
  PKCS#7 using a 32-byte block (pad value 1..32; a full block when already aligned).
- Ciphertext is standard base64 with padding.

Every failure raises `WeComCryptoError` with the official library's error code, so callers can log
what went wrong without leaking details to the sender.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAD_BLOCK = 32


class WeComCryptoError(Exception):
    """A callback failed verification or decryption. `code` is WXBizMsgCrypt's error code."""

    SIGNATURE_MISMATCH = -40001
    PARSE_ERROR = -40002
    ILLEGAL_AES_KEY = -40004
    RECEIVEID_MISMATCH = -40005
    DECRYPT_FAILED = -40007
    ILLEGAL_BUFFER = -40008
    BASE64_DECODE_FAILED = -40010

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} ({code})")
        self.code = code
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature over the four strings."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def decode_aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise WeComCryptoError(WeComCryptoError.ILLEGAL_AES_KEY, "EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise WeComCryptoError(WeComCryptoError.ILLEGAL_AES_KEY, "EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise WeComCryptoError(WeComCryptoError.ILLEGAL_AES_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key


def generate_encoding_aes_key() -> str:
    """A fresh 43-character EncodingAESKey, as the WeCom admin console would generate."""
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


def _pad(data: bytes) -> bytes:
    amount = PAD_BLOCK - len(data) % PAD_BLOCK
    return data + bytes([amount]) * amount


def _unpad(data: bytes) -> bytes:
    if not data:
        raise WeComCryptoError(WeComCryptoError.ILLEGAL_BUFFER, "empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= PAD_BLOCK or amount > len(data):
        raise WeComCryptoError(WeComCryptoError.ILLEGAL_BUFFER, "bad padding")
    return data[:-amount]


class WeComCrypto:
    """Encrypt, decrypt and sign for one (token, EncodingAESKey, receiveid)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.key = decode_aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext of `message`. `random_prefix` (16 bytes) is fixed only in tests."""
        prefix = random_prefix if random_prefix is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("random_prefix must be 16 bytes")
        body = message.encode()
        plaintext = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(_pad(plaintext)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The message inside `encrypted`; raises WeComCryptoError (bad base64, padding, receiveid)."""
        try:
            ciphertext = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeComCryptoError(WeComCryptoError.BASE64_DECODE_FAILED, "ciphertext is not base64") from exc
        if not ciphertext or len(ciphertext) % 16:
            raise WeComCryptoError(
                WeComCryptoError.DECRYPT_FAILED, "ciphertext length is not a block multiple"
            )
        decryptor = self._cipher().decryptor()
        plaintext = _unpad(decryptor.update(ciphertext) + decryptor.finalize())
        if len(plaintext) < 20:
            raise WeComCryptoError(WeComCryptoError.ILLEGAL_BUFFER, "plaintext too short")
        (length,) = struct.unpack(">I", plaintext[16:20])
        if 20 + length > len(plaintext):
            raise WeComCryptoError(WeComCryptoError.ILLEGAL_BUFFER, "declared length exceeds plaintext")
        message, receive_id = plaintext[20 : 20 + length], plaintext[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise WeComCryptoError(WeComCryptoError.RECEIVEID_MISMATCH, "receiveid does not match")
        try:
            return message.decode()
        except UnicodeDecodeError as exc:
            raise WeComCryptoError(WeComCryptoError.ILLEGAL_BUFFER, "message is not UTF-8") from exc

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise WeComCryptoError unless `msg_signature` signs these values."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise WeComCryptoError(WeComCryptoError.SIGNATURE_MISMATCH, "msg_signature does not match")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The GET verification: check the signature over echostr and return its plaintext."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_reply(
        self, message: str, *, timestamp: str, nonce: str, random_prefix: bytes | None = None
    ) -> str:
        """The passive encrypted reply XML (Encrypt, MsgSignature, TimeStamp, Nonce)."""
        encrypted = self.encrypt(message, random_prefix=random_prefix)
        return (
            f"<xml>\n<Encrypt><![CDATA[{encrypted}]]></Encrypt>\n"
            f"<MsgSignature><![CDATA[{self.sign(timestamp, nonce, encrypted)}]]></MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
        )

"""Channel secrets (tokens, app secrets) encrypted at rest (Fernet) with a key derived from the settings' secret.

The key is derived with HKDF-SHA256 (RFC 5869). Before migration 0019 it was a bare SHA-256 of a label and the
secret; that migration re-encrypts every stored secret under the HKDF key, and `MultiFernet` still reads a token
made the old way (a row the migration could not reach because it ran with another key), so nothing is lost.
`rotate` re-encrypts under a new secret with `MultiFernet.rotate` (the token's timestamp is kept).
"""

from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"onevoice-channel-secrets"


def hkdf_key(secret_key: str) -> bytes:
    """The Fernet key for channel secrets: HKDF-SHA256 of the secret, bound to this use by `info`."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def legacy_key(secret_key: str) -> bytes:
    """The key before migration 0019 (SHA-256 of a label and the secret): read, never written."""
    return base64.urlsafe_b64encode(hashlib.sha256(INFO + b":" + secret_key.encode()).digest())


def _fernet(secret_key: str) -> MultiFernet:
    # MultiFernet encrypts with the first key and decrypts with any.
    return MultiFernet([Fernet(hkdf_key(secret_key)), Fernet(legacy_key(secret_key))])


def encrypt(values: dict[str, str], secret_key: str) -> str | None:
    if not values:
        return None
    return _fernet(secret_key).encrypt(orjson.dumps(values)).decode()


def decrypt(token: str | None, secret_key: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        return orjson.loads(_fernet(secret_key).decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("channel secrets cannot be decrypted: was ONEVOICE_SECRET_KEY changed?") from None


def rotate(token: str | None, old_key: str, new_key: str) -> str | None:
    """The same secrets under `new_key`; ValueError when `old_key` does not open them."""
    if not token:
        return token
    try:
        keys = [Fernet(hkdf_key(new_key)), Fernet(hkdf_key(old_key)), Fernet(legacy_key(old_key))]
        return MultiFernet(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise ValueError("channel secrets cannot be decrypted: was ONEVOICE_SECRET_KEY changed?") from None

"""Channel secrets (tokens, app secrets) encrypted at rest with a key derived from the settings' secret."""

from __future__ import annotations

import base64
import hashlib

import orjson
from cryptography.fernet import Fernet, InvalidToken


def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"onevoice-channel-secrets:" + secret_key.encode()).digest()))


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
    return encrypt(decrypt(token, old_key), new_key)

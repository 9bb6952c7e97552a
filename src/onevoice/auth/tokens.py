"""API tokens: shown once, stored as SHA-256 (they are long random strings, so a fast hash is safe)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.db import utcnow

PREFIX = "ov_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(session: Session, name: str, scopes: list[str] | None = None,
                 user_id: int | None = None, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    if not name or not name.strip():
        raise ValueError("a token needs a name")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip()[:200], prefix=plaintext[:10], token_hash=_hash(plaintext),
                     scopes=scopes or ["*"], user_id=user_id,
                     expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None)
    session.add(token)
    session.flush()
    return token, plaintext


def verify_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for this string, or None (unknown, revoked or expired)."""
    if not plaintext or len(plaintext) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= utcnow():
        return None
    return token


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise LookupError(f"no token with id {token_id}")
    token.revoked_at = token.revoked_at or utcnow()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))

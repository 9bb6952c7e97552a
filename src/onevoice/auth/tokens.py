"""API tokens: shown once, stored as SHA-256 (they are long random strings, so a fast hash is safe)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken, User
from onevoice.db import utcnow

PREFIX = "ov_"
# What a token may be limited to (web.deps.require_scope checks them per route); "family:*" and "*" widen.
# Token management is its own family: a token that edits governance rules must not mint a wider token.
SCOPES = ("messages:read", "messages:write", "cases:read", "contacts:read", "contacts:write", "governance:read",
          "governance:write", "audit:read", "posts:read", "posts:write", "tokens:read", "tokens:write",
          "triage:read", "metrics:read", "reports:read", "reports:write", "notifications:read", "notifications:write")
FAMILIES = frozenset(s.split(":", 1)[0] for s in SCOPES)
# Tokens made on the pages or through the API live this long unless asked otherwise, and at most MAX_DAYS.
DEFAULT_DAYS = 90
MAX_DAYS = 365


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(session: Session, name: str, scopes: list[str] | None = None,
                 user_id: int | None = None, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    if not name or not name.strip():
        raise ValueError("a token needs a name")
    scopes = check_scopes(scopes)
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValueError("a token's lifetime is a positive number of days")
    plaintext = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name.strip()[:200], prefix=plaintext[:10], token_hash=_hash(plaintext),
                     scopes=scopes, user_id=user_id,
                     expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None)
    session.add(token)
    session.flush()
    return token, plaintext


def check_scopes(scopes: list[str] | None) -> list[str]:
    """The scopes as given (default ["*"]), or ValueError naming the unknown one and the valid ones."""
    out = []
    for raw in scopes or ["*"]:
        scope = (raw or "").strip()
        family, _, rest = scope.partition(":")
        if scope != "*" and scope not in SCOPES and not (rest == "*" and family in FAMILIES):
            raise ValueError(f"unknown scope {scope!r}: use *, a family such as cases:*, or one of {', '.join(SCOPES)}")
        if scope not in out:
            out.append(scope)
    return out


def scopes_cover(held: list[str] | None, wanted: list[str]) -> bool:
    """Whether a token holding `held` may hand out `wanted` (both as check_scopes returns them).

    A wildcard is covered only by a wildcard at least as wide: "cases:*" needs "cases:*" or "*" even when the
    holder has every cases scope there is today, because a wildcard also grants the scopes added later."""
    held = held or []
    if "*" in held:
        return True
    for scope in wanted:
        family, _, rest = scope.partition(":")
        if scope == "*" or (rest == "*" and f"{family}:*" not in held):
            return False
        if rest != "*" and scope not in held and f"{family}:*" not in held:
            return False
    return True


def token_state(session: Session, plaintext: str) -> tuple[ApiToken | None, str]:
    """(token, "ok") for a live token, else (token or None, why not): "unknown", "revoked" or "expired"."""
    if not plaintext or len(plaintext) > 200:
        return None, "unknown"
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(plaintext)))
    if token is None:
        return None, "unknown"
    if token.revoked_at is not None:
        return token, "revoked"
    if token.expires_at is not None and token.expires_at <= utcnow():
        return token, "expired"
    return token, "ok"


def owner_disabled(session: Session, token: ApiToken) -> bool:
    """A person's token whose user is removed or deactivated (an operator token has no user)."""
    return token.user_id is not None and not session.scalar(select(User.active).where(User.id == token.user_id))


def mark_used(session: Session, token_id: int) -> None:
    session.get(ApiToken, token_id).last_used_at = utcnow()


def verify_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live token for this string, or None (unknown, revoked or expired)."""
    token, state = token_state(session, plaintext)
    return token if state == "ok" else None


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise LookupError(f"no token with id {token_id}")
    token.revoked_at = token.revoked_at or utcnow()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))

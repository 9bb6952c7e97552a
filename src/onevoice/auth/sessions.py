"""Server-side sign-in sessions behind a signed cookie.

The cookie holds `<random token>.<HMAC of the token under the secret key>`. The signature lets us reject a
forged or mangled cookie without touching the database; the row (found by the token's SHA-256) is the
truth, so signing out, expiry and revocation take effect at once on every node.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onevoice.auth.models import User, UserSession
from onevoice.db import utcnow

COOKIE = "onevoice_session"
LIFETIME = timedelta(days=14)
IDLE = timedelta(hours=12)
# last_seen_at is written at most this often, so reading pages does not turn into writes.
TOUCH_EVERY = timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _signer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="onevoice-session")


def cookie_value(secret: str, token: str) -> str:
    """The session token, signed with a timestamp (itsdangerous): a copied cookie stops working after LIFETIME
    even before the server-side session is looked up."""
    return _signer(secret).dumps(token)


def token_from_cookie(secret: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        token = _signer(secret).loads(value, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:  # SignatureExpired is one
        return None
    return token if isinstance(token, str) else None


def start_session(session: Session, user: User, ip: str | None = None, user_agent: str | None = None) -> str:
    """Create a session row and return the plaintext token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(token_hash=_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                            created_at=now, last_seen_at=now, expires_at=now + LIFETIME,
                            ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:300] or None))
    session.flush()
    return token


@dataclass(frozen=True)
class Resolved:
    session_id: int
    user: User
    csrf_token: str
    stale: bool  # last_seen_at should be refreshed


def resolve(session: Session, token: str) -> Resolved | None:
    """The live session and its active user for this token, or None."""
    now = utcnow()
    row = session.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                          .where(UserSession.token_hash == _hash(token))).first()
    if row is None:
        return None
    us, user = row
    if us.revoked_at is not None or us.expires_at <= now or us.last_seen_at + IDLE <= now or not user.active:
        return None
    return Resolved(us.id, user, us.csrf_token, stale=us.last_seen_at + TOUCH_EVERY <= now)


def touch(session: Session, session_id: int) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=utcnow()))


def end_session(session: Session, token: str) -> int:
    """Revoke this token's session; the number of sessions ended (0 if it was already over)."""
    result = session.execute(update(UserSession).where(UserSession.token_hash == _hash(token),
                                                       UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return result.rowcount or 0


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """Sign a user out everywhere (governance: removed users lose access at once)."""
    result = session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                       UserSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return result.rowcount or 0

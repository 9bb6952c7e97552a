"""What an admin does to accounts: reset a password, deactivate or reactivate, sign someone out everywhere.

A deactivated user loses access at once: their sign-in sessions are revoked, `sessions.resolve` refuses an
inactive user, and API tokens tied to them stop working (`web.deps.require_token`). Changes to users are
audited by the governance hook; session revocations (a bulk UPDATE the hook cannot see) are recorded here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken, User, UserSession
from onevoice.auth.passwords import hash_password
from onevoice.auth.principal import Principal
from onevoice.auth.sessions import revoke_user_sessions
from onevoice.auth.users import normalize_email, principal_for
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance import audit

ADMINS = frozenset({"admin"})


def _require_admin(who: Principal, what: str) -> None:
    if who.role not in ADMINS:
        raise Forbidden(f"only admins may {what}")


def _bind(session: Session, who: Principal, ip: str | None) -> None:
    from onevoice.governance.hooks import bind_actor  # the hook records the row changes under this actor

    bind_actor(session, who, ip)


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"no user {email!r}")
    return user


def reset_password(session: Session, who: Principal, email: str, password: str, ip: str | None = None) -> User:
    """Set a new password and sign the user out everywhere (whoever had the old one is locked out)."""
    _require_admin(who, "reset passwords")
    _bind(session, who, ip)
    user = get_user(session, email)
    try:
        user.password_hash = hash_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    session.flush()
    revoke_sessions(session, who, user, ip, reason="password reset")
    return user


def set_active(session: Session, who: Principal, email: str, active: bool, ip: str | None = None) -> User:
    """Deactivate (access ends at once: sessions revoked, tokens refused) or reactivate a user."""
    _require_admin(who, "activate or deactivate users")
    _bind(session, who, ip)
    user = get_user(session, email)
    if who.user_id == user.id and not active:
        raise InvalidInput("you cannot deactivate yourself")
    user.active = active
    session.flush()
    if not active:
        revoke_sessions(session, who, user, ip, reason="deactivated")
    return user


def revoke_sessions(session: Session, who: Principal, user: User, ip: str | None = None,
                    reason: str = "signed out by an admin") -> int:
    if who.user_id != user.id:
        _require_admin(who, "sign other people out")
    count = revoke_user_sessions(session, user.id)
    audit.record(session, who, "auth.sessions_revoke", f"user:{user.email}", {"sessions": count, "reason": reason},
                 ip)
    return count


def list_accounts(session: Session, who: Principal) -> list[dict]:
    """Every user with role, teams, state, live sessions and tokens (admins)."""
    _require_admin(who, "manage users")
    now = utcnow()
    live = {}
    for uid, expires, revoked in session.execute(select(UserSession.user_id, UserSession.expires_at,
                                                        UserSession.revoked_at)):
        if revoked is None and expires > now:
            live[uid] = live.get(uid, 0) + 1
    tokens = {}
    for uid, revoked in session.execute(select(ApiToken.user_id, ApiToken.revoked_at)):
        if uid is not None and revoked is None:
            tokens[uid] = tokens.get(uid, 0) + 1
    out = []
    for user in session.scalars(select(User).order_by(User.email)):
        p = principal_for(session, user)
        out.append({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "teams": list(p.team_keys), "active": user.active, "sessions": live.get(user.id, 0),
                    "tokens": tokens.get(user.id, 0), "has_password": user.password_hash is not None})
    return out


def list_tokens(session: Session, who: Principal) -> list[dict]:
    _require_admin(who, "list API tokens")
    emails = dict(session.execute(select(User.id, User.email)).all())
    return [{"id": t.id, "name": t.name, "prefix": t.prefix, "scopes": t.scopes, "user": emails.get(t.user_id),
             "created_at": t.created_at, "last_used_at": t.last_used_at, "expires_at": t.expires_at,
             "revoked_at": t.revoked_at} for t in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(session: Session, who: Principal, token_id: int, ip: str | None = None) -> ApiToken:
    """Revoke an API token (admins, or the person it belongs to); audited by the governance hook."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if who.role not in ADMINS and (who.user_id is None or token.user_id != who.user_id):
        raise Forbidden("only admins, or the token's owner, may revoke a token")
    _bind(session, who, ip)
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
    return token

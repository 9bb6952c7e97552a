"""What an admin does to accounts: reset a password, deactivate or reactivate, sign someone out everywhere.

A deactivated user loses access at once: their sign-in sessions are revoked, `sessions.resolve` refuses an
inactive user, and API tokens tied to them stop working (`web.deps.require_token`). Changes to users are
audited by the governance hook; session revocations (a bulk UPDATE the hook cannot see) are recorded here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.audit import log as audit
from onevoice.audit.actor import bind_actor
from onevoice.auth.models import ApiToken, User, UserSession
from onevoice.auth.passwords import hash_password
from onevoice.auth.principal import Principal
from onevoice.auth.sessions import IDLE, end_session, revoke_user_sessions
from onevoice.auth.tokens import DEFAULT_DAYS, MAX_DAYS, check_scopes, create_token, scopes_cover
from onevoice.auth.users import normalize_email, principal_for
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance.schemas import TokenOut

ADMINS = frozenset({"admin"})


def _require_admin(who: Principal, what: str) -> None:
    if who.role not in ADMINS:
        raise Forbidden(f"only admins may {what}")


def _bind(session: Session, who: Principal, ip: str | None) -> None:
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
    for uid, revoked, expires in session.execute(select(ApiToken.user_id, ApiToken.revoked_at,
                                                        ApiToken.expires_at)):
        if uid is not None and revoked is None and (expires is None or expires > now):
            tokens[uid] = tokens.get(uid, 0) + 1
    out = []
    for user in session.scalars(select(User).order_by(User.email)):
        p = principal_for(session, user)
        out.append({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                    "teams": list(p.team_keys), "active": user.active, "sessions": live.get(user.id, 0),
                    "tokens": tokens.get(user.id, 0), "has_password": user.password_hash is not None})
    return out


def _describe_token(t: ApiToken, email: str | None, now) -> TokenOut:
    state = ("revoked" if t.revoked_at else "expired" if t.expires_at is not None and t.expires_at <= now
             else "active")
    return TokenOut(id=t.id, name=t.name, prefix=t.prefix, scopes=t.scopes, user=email, created_at=t.created_at,
                    last_used_at=t.last_used_at, expires_at=t.expires_at, revoked_at=t.revoked_at, state=state)


def list_tokens(session: Session, who: Principal) -> list[TokenOut]:
    """API tokens (never the token itself): everyone's for admins, one's own for anyone else."""
    q = select(ApiToken).order_by(ApiToken.id)
    if who.role not in ADMINS:
        if who.user_id is None:
            raise Forbidden("only a signed-in person has tokens of their own")
        q = q.where(ApiToken.user_id == who.user_id)
    emails = dict(session.execute(select(User.id, User.email)).all())
    now = utcnow()
    return [_describe_token(t, emails.get(t.user_id), now) for t in session.scalars(q)]


def issue_token(session: Session, who: Principal, name: str, scopes: list[str] | None = None,
                lifetime_days: int | None = DEFAULT_DAYS, for_email: str | None = None,
                ip: str | None = None, caller_scopes: list[str] | None = None) -> tuple[TokenOut, str]:
    """A new API token and its secret (shown once). Anyone makes tokens for themselves, always with a lifetime
    of 1 to MAX_DAYS days; admins may make them for someone else, and only admins (the CLI) may make one that
    never expires (`lifetime_days=None`). A token acts as its user, so scopes only narrow what they may do.
    Audited by the governance hook (`token.create`, with scopes and expiry).

    `caller_scopes`: the scopes of the API token making this request, None for a signed-in person or the
    command line (then the person's role is the only bound). A token never mints a wider token than itself,
    and acting for someone else takes a person who is an admin (or the CLI): an operator token has no person
    behind it, so it may not put words in a user's name."""
    try:
        wanted = check_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if caller_scopes is not None and not scopes_cover(caller_scopes, wanted):
        raise Forbidden(f"a token cannot make a wider token than itself: asked for {', '.join(wanted)}, "
                        f"this token has {', '.join(caller_scopes or []) or 'no scopes'}")
    if for_email and normalize_email(for_email) != who.email:
        if who.role not in ADMINS:
            raise Forbidden("only admins may make tokens for someone else")
        if who.user_id is None and caller_scopes is not None:
            raise Forbidden("an operator token (no person behind it) cannot make tokens that act as someone: "
                            "an admin signs in, or uses `onevoice token create --user`")
    if lifetime_days is None and who.role not in ADMINS:
        raise InvalidInput(f"a token needs a lifetime of 1 to {MAX_DAYS} days")
    if lifetime_days is not None and not 1 <= lifetime_days <= MAX_DAYS:
        raise InvalidInput(f"a token's lifetime is 1 to {MAX_DAYS} days (got {lifetime_days})")
    if for_email:
        owner = get_user(session, for_email)
        if not owner.active:
            raise InvalidInput(f"{owner.email} is deactivated")
    elif who.user_id is not None:
        owner = session.get(User, who.user_id)
    else:
        owner = None  # an operator (CLI, operator token): a token acting as an admin
    _bind(session, who, ip)
    try:
        token, plaintext = create_token(session, name, wanted, owner.id if owner else None, lifetime_days)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return _describe_token(token, owner.email if owner else None, utcnow()), plaintext


def revoke_token(session: Session, who: Principal, token_id: int, ip: str | None = None) -> ApiToken:
    """Revoke an API token (admins, or the person it belongs to); audited by the governance hook."""
    token = session.get(ApiToken, token_id)
    if token is None or (who.role not in ADMINS and (who.user_id is None or token.user_id != who.user_id)):
        raise NotFound(f"no token {token_id}")  # someone else's token ids are not probed
    _bind(session, who, ip)
    token.revoked_at = token.revoked_at or utcnow()
    session.flush()
    return token


# --- sign-in sessions ------------------------------------------------------------------------------------

def list_sessions(session: Session, who: Principal, email: str | None = None) -> list[dict]:
    """Someone's live sign-in sessions (admins: anyone's; everyone: their own), newest first."""
    user = get_user(session, email) if email else (session.get(User, who.user_id) if who.user_id else None)
    if user is None:
        raise Forbidden("only a signed-in person has sessions")
    if who.user_id != user.id:
        _require_admin(who, "see other people's sessions")
    now = utcnow()
    rows = session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                     UserSession.revoked_at.is_(None),
                                                     UserSession.expires_at > now)
                           .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [{"id": us.id, "user": user.email, "created_at": us.created_at, "last_seen_at": us.last_seen_at,
             "expires_at": us.expires_at, "ip": us.ip, "user_agent": us.user_agent}
            for us in rows if us.last_seen_at + IDLE > now]


def revoke_session(session: Session, who: Principal, session_id: int, ip: str | None = None) -> UserSession:
    """End one sign-in session (admins: anyone's; everyone: their own); that browser is signed out at once."""
    us = session.get(UserSession, session_id)
    if us is None or (who.user_id != us.user_id and who.role not in ADMINS):
        raise NotFound(f"no session {session_id}")  # someone else's session ids are not probed
    email = session.scalar(select(User.email).where(User.id == us.user_id))
    if us.revoked_at is None:
        us.revoked_at = utcnow()
        session.flush()
        audit.record(session, who, "auth.session_revoke", f"user:{email}", {"session": us.id, "ip": us.ip}, ip)
    return us


def sign_out(session: Session, who: Principal, token: str, ip: str | None = None) -> None:
    """This browser signs out (audited as `auth.sign_out`)."""
    if end_session(session, token):
        audit.record(session, who, "auth.sign_out", f"user:{who.email}", {}, ip)

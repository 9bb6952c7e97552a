"""Users: create, find, authenticate, and load as a Principal with their teams."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken, ChannelGrant, User, UserTeam
from onevoice.auth.passwords import hash_password, needs_rehash, verify_password
from onevoice.auth.principal import ROLES, Principal
from onevoice.errors import Conflict, InvalidInput
from onevoice.teams.models import Team

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(session: Session, email: str, name: str, password: str | None, role: str = "responder",
                teams: list[str] | None = None) -> User:
    """Create a user in the given teams (by key). Without a password the user cannot sign in yet."""
    email = normalize_email(email)
    if not EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists")
    team_rows = []
    for key in teams or []:
        team = session.scalar(select(Team).where(Team.key == key))
        if team is None:
            raise InvalidInput(f"unknown team {key!r}")
        team_rows.append(team)
    try:
        password_hash = hash_password(password) if password else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    user = User(email=email, name=(name or email.split("@")[0]).strip()[:200], role=role,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    for team in team_rows:
        session.add(UserTeam(user_id=user.id, team_id=team.id))
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer and cost for either mistake)."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def active_user(session: Session, email: str) -> User | None:
    """The active user with exactly this email (single sign-on's provider vouches for it), or None."""
    return session.scalar(select(User).where(User.email == email, User.active.is_(True)))


def user_name(session: Session, user_id: int | None) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id)) if user_id is not None else None


def user_email(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.email).where(User.id == user_id))


def principal_for(session: Session, user: User) -> Principal:
    """The user as services see them: role, teams and, for partners, the channels granted to them. Every edge
    (session cookie, API token, CLI) builds its Principal here, so a grant or a team change counts at once."""
    rows = session.execute(select(Team.id, Team.key).join(UserTeam, UserTeam.team_id == Team.id)
                           .where(UserTeam.user_id == user.id).order_by(Team.key)).all()
    channels: frozenset[int] = frozenset()
    if user.role == "partner":
        channels = frozenset(session.scalars(select(ChannelGrant.channel_id).where(ChannelGrant.user_id == user.id)))
    return Principal(user_id=user.id, email=user.email, name=user.name, role=user.role,
                     team_ids=frozenset(r[0] for r in rows), team_keys=tuple(r[1] for r in rows),
                     channel_ids=channels)


def every_user(session: Session) -> list[User]:
    """Every user, disabled ones too, by email."""
    return list(session.scalars(select(User).order_by(User.email)))


def list_users(session: Session) -> list[dict]:
    """Everyone who can be assigned or @mentioned: id, name, email, handle (the part before @)."""
    return [{"id": u.id, "name": u.name, "email": u.email, "handle": u.email.split("@")[0]}
            for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))]


def principal_of_token(session: Session, token: ApiToken) -> Principal | None:
    """Who an API token acts as: its user (their role and teams decide), or an admin for an operator token
    (`onevoice token create` without --user). None when the token's user is removed or disabled: their tokens
    stop working at once. The one place this rule lives; every API route's principal comes from here."""
    if token.user_id is None:
        return Principal(user_id=None, email=f"token:{token.name}", name=token.name, role="admin")
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return principal_for(session, user)

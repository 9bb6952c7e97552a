"""Teams: the departments and partners that work cases."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.errors import Conflict, InvalidInput
from onevoice.teams.models import Team

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def add_team(session: Session, key: str, name: str | None = None) -> Team:
    if not KEY.match(key or ""):
        raise InvalidInput(f"team key {key!r} must be lowercase letters, digits, '-' or '_' (up to 64)")
    if session.scalar(select(Team.id).where(Team.key == key)) is not None:
        raise Conflict(f"team {key!r} already exists")
    team = Team(key=key, name=(name or key.title())[:200])
    session.add(team)
    session.flush()
    return team


def list_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.key)))


def team_id(session: Session, key: str) -> int | None:
    """The id of the team with this key; None when there is none (each caller says what that means to it)."""
    return session.scalar(select(Team.id).where(Team.key == key))


def team_keys(session: Session) -> list[str]:
    """Every team's key, in key order (the choices of a team field)."""
    return list(session.scalars(select(Team.key).order_by(Team.key)))


def teams_by_name(session: Session) -> list[dict]:
    """Every team as {key, name}, in name order (the case page's hand-off list)."""
    return [{"key": k, "name": n} for k, n in session.execute(select(Team.key, Team.name).order_by(Team.name))]


def team_names_by_id(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Team.id, Team.name)).all())

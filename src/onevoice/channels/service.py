"""Channels: the organization's accounts on each platform."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.teams.models import Team
from onevoice.teams.service import KEY


def add_channel(session: Session, key: str, kind: str, name: str | None = None, config: dict | None = None,
                owner_team: str | None = None) -> Channel:
    if not KEY.match(key or ""):
        raise InvalidInput(f"channel key {key!r} must be lowercase letters, digits, '-' or '_' (up to 64)")
    if not kind or not KEY.match(kind):
        raise InvalidInput(f"connector kind {kind!r} is not a valid kind name")
    if session.scalar(select(Channel.id).where(Channel.key == key)) is not None:
        raise Conflict(f"channel {key!r} already exists")
    owner_id = None
    if owner_team:
        owner_id = session.scalar(select(Team.id).where(Team.key == owner_team))
        if owner_id is None:
            raise InvalidInput(f"unknown team {owner_team!r}")
    channel = Channel(key=key, kind=kind, name=(name or key)[:200], config=dict(config or {}),
                      owner_team_id=owner_id)
    session.add(channel)
    session.flush()
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.key)))


def get_channel(session: Session, key: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.key == key))
    if channel is None:
        raise NotFound(f"no channel {key!r}")
    return channel

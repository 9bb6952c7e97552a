"""The scheduler's publishing job: queue the posts that came due, then deliver what is queued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from onevoice.db import unit_of_work, utcnow
from onevoice.outbox.sender import deliver_due
from onevoice.posts.service import release_due


def publish_due(factory: sessionmaker, secret_key: str | None = None, now: datetime | None = None,
                build: Callable | None = None) -> list[int]:
    """Queue every scheduled copy whose time has come (its own unit of work), then send them at once rather
    than at the outbox's next tick. Returns the jobs queued."""
    with unit_of_work(factory) as session:
        jobs = release_due(session, now or utcnow())
    if jobs:
        kwargs = {"build": build} if build is not None else {}
        deliver_due(factory, now=now, secret_key=secret_key, **kwargs)
    return jobs

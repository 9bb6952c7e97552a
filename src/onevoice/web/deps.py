"""FastAPI dependencies: the runtime, one unit of work per request, and the API token check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.auth.tokens import verify_token
from onevoice.db import utcnow
from onevoice.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    """A write unit of work: the edge commits when the route returns without error."""
    session = runtime.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_read_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    session = runtime.read_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def require_token(request: Request, runtime: Runtime = Depends(get_runtime)) -> ApiToken:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "missing API token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    with runtime.read_factory() as session:
        token = verify_token(session, value.strip())
        if token is None:
            raise HTTPException(401, "invalid, revoked or expired API token", headers={"WWW-Authenticate": "Bearer"})
        stale = token.last_used_at is None or token.last_used_at < utcnow() - timedelta(minutes=1)
    if stale:
        # Recorded at most once a minute so that busy clients do not turn every read into a write.
        with runtime.session_factory.begin() as session:
            session.get(ApiToken, token.id).last_used_at = utcnow()
    return token

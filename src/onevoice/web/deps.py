"""FastAPI dependencies: the runtime, one unit of work per request, and the API token check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.auth.principal import Principal
from onevoice.auth.tokens import mark_used, owner_disabled, token_state
from onevoice.auth.users import principal_of_token
from onevoice.db import unit_of_work, utcnow
from onevoice.process import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    """A write unit of work: the edge commits when the route returns without error."""
    with unit_of_work(runtime.session_factory) as session:
        yield session


def get_read_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    session = runtime.read_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _refusal(token: ApiToken | None, state: str) -> str:
    if state == "expired":
        return (f"this API token ({token.prefix}…) expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: "
                "create a new one")
    if state == "revoked":
        return f"this API token ({token.prefix}…) was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC"
    return "unknown API token: check that it was copied whole"


def require_token(request: Request, runtime: Runtime = Depends(get_runtime)) -> ApiToken:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "missing API token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    with runtime.read_factory() as session:
        token, state = token_state(session, value.strip())
        if state != "ok":
            # Say which: a program's operator fixes an expired token differently from a revoked one.
            raise HTTPException(401, _refusal(token, state), headers={"WWW-Authenticate": "Bearer"})
        if owner_disabled(session, token):
            # A removed or deactivated user's tokens stop working at once, on every route.
            raise HTTPException(401, "this token's user is disabled", headers={"WWW-Authenticate": "Bearer"})
        stale = token.last_used_at is None or token.last_used_at < utcnow() - timedelta(minutes=1)
    if stale:
        # Recorded at most once a minute so that busy clients do not turn every read into a write.
        with runtime.session_factory.begin() as session:
            mark_used(session, token.id)
    return token


def scope_allows(scopes: list[str] | None, needed: str) -> bool:
    """"*" allows everything, "cases:*" every cases scope, otherwise the exact scope."""
    family = needed.split(":", 1)[0]
    return any(s in ("*", needed, f"{family}:*") for s in scopes or [])


def require_scope(needed: str):
    """A dependency: a valid token that carries `needed` (e.g. "cases:read", "messages:write")."""

    def check(token: ApiToken = Depends(require_token)) -> ApiToken:
        if not scope_allows(token.scopes, needed):
            raise HTTPException(403, f"this token lacks the scope {needed!r} (it has: {', '.join(token.scopes or [])})")
        return token

    return check


def api_principal(token: ApiToken = Depends(require_token),
                  session: Session = Depends(get_read_session)) -> Principal:
    """Who a token acts as (auth.users.principal_of_token); 401 when its user is disabled."""
    return principal_from_token(session, token)


def principal_from_token(session: Session, token: ApiToken) -> Principal:
    who = principal_of_token(session, token)
    if who is None:
        raise HTTPException(401, "this token's user is disabled", headers={"WWW-Authenticate": "Bearer"})
    return who


def require_sees_all(who: Principal = Depends(api_principal)) -> Principal:
    """Raw data across every team (messages, contacts): admins, coordinators and operator tokens."""
    if not who.sees_all:
        raise HTTPException(403, "this route reads every team's data: use an operator, admin or coordinator token")
    return who

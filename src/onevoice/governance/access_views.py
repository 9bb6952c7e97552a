"""Pages and JSON routes for access: API tokens (everyone: their own; admins: everyone's), sign-in sessions
(everyone: their own, sign out everywhere; admins: anyone's) and partners' channel grants (admins).

Every rule is in the services (`auth.admin`, `governance.grants`); these routes parse and render.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onevoice.auth.models import ApiToken
from onevoice.auth.principal import Principal
from onevoice.auth.sessions import resolve
from onevoice.auth.tokens import DEFAULT_DAYS, MAX_DAYS, SCOPES
from onevoice.auth.users import user_email
from onevoice.db import unit_of_work
from onevoice.errors import Forbidden, InvalidInput
from onevoice.governance import grants
from onevoice.governance import people as admin
from onevoice.governance.admin_views import _nav
from onevoice.governance.api import client_ip, token_principal
from onevoice.governance.schemas import (
    Granted,
    GrantRevoked,
    Grants,
    Revoked,
    SignInSessions,
    TokenCreated,
    TokenOut,
    Tokens,
)
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime, get_session, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

pages = APIRouter(prefix="/governance")
api = APIRouter(prefix="/api/v1", tags=["governance"])


# --- API tokens --------------------------------------------------------------------------------------------

def _tokens_page(request: Request, viewer: Viewer, session: Session, created: TokenOut | None = None,
                 secret: str | None = None, status: int = 200, error: str | None = None, form: dict | None = None):
    who = viewer.principal
    return render(request, "governance/tokens.html", {
        **_nav(viewer), "tokens": admin.list_tokens(session, who), "scopes": SCOPES, "created": created,
        "secret": secret, "default_days": DEFAULT_DAYS, "max_days": MAX_DAYS, "is_admin": who.role in admin.ADMINS,
        "error": error, "form": form or {},
    }, status_code=status)


@pages.get("/tokens")
def tokens_page(request: Request, viewer: Viewer = Depends(current_user),
                session: Session = Depends(get_read_session)):
    return _tokens_page(request, viewer, session)


@pages.post("/tokens")
async def tokens_create(request: Request, runtime: Runtime = Depends(get_runtime),
                        viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    scopes = [str(s) for s in form.getlist("scope")] or ["*"]
    days = str(form.get("days") or "").strip()
    try:
        with unit_of_work(runtime.session_factory) as session:
            created, secret = admin.issue_token(
                session, viewer.principal, str(form.get("name") or ""), scopes,
                int(days) if days.isdigit() else -1, str(form.get("user") or "").strip() or None, client_ip(request))
    except (InvalidInput, Forbidden) as exc:
        # The form again with the reason and everything typed kept.
        typed = {"name": str(form.get("name") or ""), "days": days, "user": str(form.get("user") or ""),
                 "scopes": [str(s) for s in form.getlist("scope")]}
        with runtime.read_factory() as session:
            return _tokens_page(request, viewer, session, status=exc.status_code, error=str(exc), form=typed)
    # The secret is shown in this response only (never in a URL, never stored): no redirect after the POST.
    with runtime.read_factory() as session:
        return _tokens_page(request, viewer, session, created, secret, status=201)


@pages.post("/tokens/{token_id}/revoke")
def tokens_revoke_page(token_id: RowId, request: Request, runtime: Runtime = Depends(get_runtime),
                       viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        admin.revoke_token(session, viewer.principal, token_id, client_ip(request))
    return RedirectResponse("/governance/tokens", status_code=303)


class TokenIn(BaseModel):
    # A misspelt field must not pass silently: {"for_email": ...} would mint a token acting as the caller.
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["*"],
                              description="e.g. cases:read, governance:*; at most those of the token asking")
    expires_in_days: int = Field(DEFAULT_DAYS, description=f"lifetime, 1 to {MAX_DAYS} days")
    user: str | None = Field(None, description="admins (a person, not an operator token): the email of the "
                                               "person the token acts as")


@api.get("/tokens", response_model=Tokens, responses=AUTH_ERRORS)
def tokens_list(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    """Your API tokens (admins: everyone's), never the secret: scopes, created, last used, expiry, state.
    Needs `tokens:read`."""
    return Tokens(items=admin.list_tokens(session, who))


@api.post("/tokens", status_code=201, response_model=TokenCreated, responses=RECORD_ERRORS)
def tokens_create_api(body: TokenIn, request: Request, who: Principal = Depends(token_principal),
                      token: ApiToken = Depends(require_token), session: Session = Depends(get_session)):
    """A new token acting as you (admins: as `user`) with at most the scopes of the token asking; `token` is
    in this answer only. Needs `tokens:write`."""
    created, secret = admin.issue_token(session, who, body.name, body.scopes, body.expires_in_days, body.user,
                                        client_ip(request), caller_scopes=list(token.scopes or []))
    return TokenCreated(**dict(created), token=secret)


@api.delete("/tokens/{token_id}", response_model=Revoked, responses=RECORD_ERRORS)
def tokens_revoke(token_id: RowId, request: Request, who: Principal = Depends(token_principal),
                  session: Session = Depends(get_session)):
    """Revoke a token (admins; or the person it belongs to). It stops working at once. Needs `tokens:write`."""
    token = admin.revoke_token(session, who, token_id, client_ip(request))
    return {"id": token.id, "revoked_at": token.revoked_at}


# --- sign-in sessions --------------------------------------------------------------------------------------

@pages.get("/sessions")
def sessions_page(request: Request, email: str | None = None, viewer: Viewer = Depends(current_user),
                  session: Session = Depends(get_read_session)):
    """Your signed-in browsers (admins: `?email=` anyone's)."""
    items = admin.list_sessions(session, viewer.principal, email or None)
    return render(request, "governance/sessions.html", {
        **_nav(viewer), "items": items, "email": email or viewer.principal.email,
        "own": not email or email.strip().lower() == viewer.principal.email,
        "current_id": _current_session_id(session, viewer)})


def _current_session_id(session: Session, viewer: Viewer) -> int | None:
    resolved = resolve(session, viewer.session_token)
    return resolved.session_id if resolved else None


@pages.post("/sessions/{session_id}/revoke")
def sessions_revoke_page(session_id: RowId, request: Request, runtime: Runtime = Depends(get_runtime),
                         viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        us = admin.revoke_session(session, viewer.principal, session_id, client_ip(request))
        email = user_email(session, us.user_id)
    back = "/governance/sessions" if email == viewer.principal.email else f"/governance/sessions?email={email}"
    return RedirectResponse(back, status_code=303)


@pages.post("/sessions/sign-out-everywhere")
def sessions_everywhere(request: Request, runtime: Runtime = Depends(get_runtime),
                        viewer: Viewer = Depends(csrf_protect)):
    """Sign yourself out on every browser, this one included."""
    with unit_of_work(runtime.session_factory) as session:
        me = admin.get_user(session, viewer.principal.email)
        admin.revoke_sessions(session, viewer.principal, me, client_ip(request), reason="signed out everywhere")
    return RedirectResponse("/login", status_code=303)


@api.get("/users/{email}/sessions", response_model=SignInSessions, responses=RECORD_ERRORS)
def sessions_list(email: str, who: Principal = Depends(token_principal),
                  session: Session = Depends(get_read_session)):
    """A person's live sign-in sessions (admins; or that person)."""
    return {"items": admin.list_sessions(session, who, email)}


@api.delete("/sessions/{session_id}", response_model=Revoked, responses=RECORD_ERRORS)
def sessions_revoke(session_id: RowId, request: Request, who: Principal = Depends(token_principal),
                    session: Session = Depends(get_session)):
    """End one sign-in session (admins; or its owner): that browser is signed out at once."""
    us = admin.revoke_session(session, who, session_id, client_ip(request))
    return {"id": us.id, "revoked_at": us.revoked_at}


# --- partners' channel grants --------------------------------------------------------------------------------

@pages.post("/users/grants")
def grants_add(request: Request, email: str = Form(...), channel: str = Form(""),
               runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        grants.grant(session, viewer.principal, email, channel, client_ip(request))
    return RedirectResponse("/governance/users", status_code=303)


@pages.post("/users/grants/revoke")
def grants_remove(request: Request, email: str = Form(...), channel: str = Form(""),
                  runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        grants.revoke(session, viewer.principal, email, channel, client_ip(request))
    return RedirectResponse("/governance/users", status_code=303)


@api.get("/grants", response_model=Grants, responses=AUTH_ERRORS)
def grants_list(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    """Admins: every partner and the channels granted to them."""
    return {"items": [{"user": email, "channels": keys}
                      for email, keys in grants.grants_by_user(session, who).items()]}


@api.put("/users/{email}/channels/{key}", response_model=Granted, responses=RECORD_ERRORS)
def grants_put(email: str, key: str, request: Request, who: Principal = Depends(token_principal),
               session: Session = Depends(get_session)):
    """Admins: let a partner work on a channel (idempotent)."""
    return {"user": email, "channel": key, "granted": grants.grant(session, who, email, key, client_ip(request))}


@api.delete("/users/{email}/channels/{key}", response_model=GrantRevoked,
            responses=RECORD_ERRORS)
def grants_delete(email: str, key: str, request: Request, who: Principal = Depends(token_principal),
                  session: Session = Depends(get_session)):
    """Admins: take a channel away from a partner (idempotent); it counts from their next request."""
    return {"user": email, "channel": key, "revoked": grants.revoke(session, who, email, key, client_ip(request))}


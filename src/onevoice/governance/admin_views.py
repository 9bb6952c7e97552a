"""Admin pages and JSON routes for accounts: the channel inventory (everyone reads; admins and coordinators
test credentials and change owners) and people (admins: reset a password, deactivate, sign out everywhere,
partners' channel grants). Tokens, sessions and grant routes: `access_views.py`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from onevoice.auth.permissions import AUDITORS, POLICY_OWNERS, TEAM_OVERSEERS
from onevoice.auth.principal import Principal
from onevoice.channels.service import channel_keys
from onevoice.db import unit_of_work
from onevoice.governance import accounts, grants
from onevoice.governance import people as admin
from onevoice.governance.api import client_ip, token_principal
from onevoice.governance.schemas import AccountHealth, Accounts, UserActive, Users
from onevoice.process import Runtime
from onevoice.teams.service import team_keys
from onevoice.web.deps import get_read_session, get_runtime, get_session
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS
from onevoice.web.session import Viewer, csrf_protect, current_user, secret
from onevoice.web.templating import render

pages = APIRouter(prefix="/governance")
api = APIRouter(prefix="/api/v1", tags=["governance"])


def _nav(viewer: Viewer) -> dict:
    role = viewer.principal.role
    return {"can_own": role in POLICY_OWNERS, "can_oversee": role in TEAM_OVERSEERS, "can_audit": role in AUDITORS}


# --- the channel inventory -----------------------------------------------------------------------------

@pages.get("/accounts")
def accounts_page(request: Request, viewer: Viewer = Depends(current_user),
                  session: Session = Depends(get_read_session)):
    return render(request, "governance/accounts.html", {
        **_nav(viewer), "items": accounts.inventory(session, viewer.principal),
        "teams": team_keys(session),
        "tested": request.query_params.get("tested")})


@pages.post("/accounts/{key}/test")
async def accounts_test(key: str, request: Request, runtime: Runtime = Depends(get_runtime),
                        viewer: Viewer = Depends(csrf_protect)):
    def run():
        with unit_of_work(runtime.session_factory) as session:
            return accounts.test(session, viewer.principal, key, secret(runtime), client_ip(request))

    await asyncio.to_thread(run)  # a real connector calls its platform
    return RedirectResponse(f"/governance/accounts?tested={key}", status_code=303)


@pages.post("/accounts/{key}/owner")
def accounts_owner(key: str, request: Request, team: str = Form(""), runtime: Runtime = Depends(get_runtime),
                   viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        accounts.set_owner(session, viewer.principal, key, team or None, client_ip(request))
    return RedirectResponse("/governance/accounts", status_code=303)


@api.get("/accounts", response_model=Accounts, responses=AUTH_ERRORS)
def accounts_list(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    """Every channel: owner team, who may post, credential health, last activity."""
    return {"items": accounts.inventory(session, who)}


@api.post("/accounts/{key}/test", response_model=AccountHealth, responses=RECORD_ERRORS)
def accounts_test_api(key: str, request: Request, who: Principal = Depends(token_principal),
                      session: Session = Depends(get_session)):
    runtime = request.app.state.runtime
    return accounts.test(session, who, key, secret(runtime), client_ip(request))


# --- people --------------------------------------------------------------------------------------------

@pages.get("/users")
def users_page(request: Request, viewer: Viewer = Depends(current_user),
               session: Session = Depends(get_read_session)):
    return render(request, "governance/users.html", {
        **_nav(viewer), "users": admin.list_accounts(session, viewer.principal),
        "grants": grants.grants_by_user(session, viewer.principal),
        "channels": channel_keys(session, enabled_only=True)})


@pages.post("/users/password")
def users_password(request: Request, email: str = Form(...), password: str = Form(""),
                   runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        admin.reset_password(session, viewer.principal, email, password, client_ip(request))
    return RedirectResponse("/governance/users", status_code=303)


@pages.post("/users/active")
def users_active(request: Request, email: str = Form(...), active: str = Form(""),
                 runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        admin.set_active(session, viewer.principal, email, active == "1", client_ip(request))
    return RedirectResponse("/governance/users", status_code=303)


@pages.post("/users/sign-out")
def users_sign_out(request: Request, email: str = Form(...), runtime: Runtime = Depends(get_runtime),
                   viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        admin.revoke_sessions(session, viewer.principal, admin.get_user(session, email), client_ip(request))
    return RedirectResponse("/governance/users", status_code=303)


class ActiveIn(BaseModel):
    active: bool


@api.get("/users", response_model=Users, responses=AUTH_ERRORS)
def users_list(who: Principal = Depends(token_principal), session: Session = Depends(get_read_session)):
    """Admins: every user with role, teams, state, live sessions and tokens."""
    return {"items": admin.list_accounts(session, who)}


@api.post("/users/{email}/active", response_model=UserActive, responses=RECORD_ERRORS)
def users_set_active(email: str, body: ActiveIn, request: Request, who: Principal = Depends(token_principal),
                     session: Session = Depends(get_session)):
    user = admin.set_active(session, who, email, body.active, client_ip(request))
    return {"email": user.email, "active": user.active}

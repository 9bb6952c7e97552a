"""Pages to connect a channel: choose a platform, fill in what it needs, sign in there (or type the app
password, the mail servers), and see the test and the webhook address. Admins only; the services check."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onevoice.auth.permissions import AUDITORS, POLICY_OWNERS, TEAM_OVERSEERS, require
from onevoice.connect import service
from onevoice.connect.platforms import OAUTH
from onevoice.db import unit_of_work
from onevoice.errors import InvalidInput
from onevoice.governance.api import client_ip
from onevoice.process import Runtime
from onevoice.teams.service import list_teams
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user, secret
from onevoice.web.templating import render

router = APIRouter(prefix="/governance/accounts")
SKIP = ("csrf_token",)


def _nav(viewer: Viewer) -> dict:
    role = viewer.principal.role
    return {"can_own": role in POLICY_OWNERS, "can_oversee": role in TEAM_OVERSEERS, "can_audit": role in AUDITORS}


def _callback_url(request: Request) -> str:
    return str(request.url_for("connect_callback"))


def _webhook_url(request: Request, key: str) -> str:
    return str(request.base_url).rstrip("/") + f"/webhooks/{key}"


def _leave(request: Request, viewer: Viewer, result: service.Result):
    """On to the platform's sign-in. Not a 303: the pages' CSP (form-action 'self') makes browsers refuse a form
    submission that redirects to another site, so this page moves on by itself (and has a link to follow)."""
    return render(request, "connect/leaving.html", {**_nav(viewer), "url": result.url,
                                                    "label": service.fields_for(result.kind)[0]})


def _result(request: Request, viewer: Viewer, result: service.Result):
    status = 200 if result.ok else 400
    return render(request, "connect/result.html", {
        **_nav(viewer), "r": result, "label": service.fields_for(result.kind)[0] if result.kind else "the platform",
        "webhook_url": _webhook_url(request, result.key) if result.webhook else ""}, status_code=status)


@router.get("/connect")
def choose(request: Request, viewer: Viewer = Depends(current_user)):
    require(viewer.principal, service.CONNECTORS, "connect channels")
    return render(request, "connect/choose.html", {**_nav(viewer), "choices": service.choices()})


@router.get("/connect/callback", name="connect_callback")
async def callback(request: Request, state: str = "", code: str = "", error: str = "", error_description: str = "",
                   runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(current_user)):
    # Meta names its refusal error_reason/error; Mastodon, X and Reddit use error (RFC 6749).
    error = error or request.query_params.get("error_reason", "")

    def run():
        with unit_of_work(runtime.session_factory) as session:
            return service.callback(session, viewer.principal, viewer.session_token, state, code, error,
                                    error_description or request.query_params.get("error_message", ""),
                                    _callback_url(request), secret(runtime), str(request.base_url), client_ip(request))

    result = await asyncio.to_thread(run)  # the token exchange calls the platform
    if result.ok and result.choices:
        return render(request, "connect/pick.html", {**_nav(viewer), "r": result})
    return _result(request, viewer, result)


@router.post("/connect/pick")
def pick(request: Request, connect_id: int = Form(0), page_id: str = Form(""), runtime: Runtime = Depends(get_runtime),
         viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        result = service.pick(session, viewer.principal, viewer.session_token, connect_id, page_id, secret(runtime),
                              client_ip(request))
    return _result(request, viewer, result)


def _form_page(request: Request, viewer: Viewer, session: Session, kind: str, form: dict, reconnect: str = "",
               error: str = "", status: int = 200):
    label, fields = service.fields_for(kind)
    return render(request, "connect/form.html", {
        **_nav(viewer), "kind": kind, "label": label, "fields": fields, "form": form, "error": error,
        "oauth": kind in OAUTH, "callback_url": _callback_url(request), "reconnect": reconnect,
        "teams": [t.key for t in list_teams(session)]}, status_code=status)


@router.get("/connect/{kind}")
def form_page(kind: str, request: Request, reconnect: str = "", viewer: Viewer = Depends(current_user),
              runtime: Runtime = Depends(get_runtime), session: Session = Depends(get_read_session)):
    require(viewer.principal, service.CONNECTORS, "connect channels")
    form: dict = {}
    if reconnect:
        info = service.reconnect_info(session, viewer.principal, reconnect, secret(runtime))
        kind, form = info["kind"], {**info["prefill"], "key": info["key"], "name": info["name"]}
    return _form_page(request, viewer, session, kind, form, reconnect)


@router.post("/connect/{kind}")
async def submit(kind: str, request: Request, runtime: Runtime = Depends(get_runtime),
                 viewer: Viewer = Depends(csrf_protect)):
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if k not in SKIP}
    reconnect = form.pop("reconnect", "") or None
    service.fields_for(kind)  # an unknown kind is a 404 before anything else

    def run():
        with unit_of_work(runtime.session_factory) as session:
            if kind in OAUTH:
                return service.start(session, viewer.principal, viewer.session_token, kind, form,
                                     _callback_url(request), secret(runtime), client_ip(request), reconnect=reconnect)
            return service.connect_with_form(session, viewer.principal, kind, form, secret(runtime),
                                             client_ip(request), reconnect=reconnect)

    try:
        result = await asyncio.to_thread(run)
    except InvalidInput as exc:
        with runtime.read_factory() as session:
            shown = {k: v for k, v in form.items() if not any(s in k for s in ("secret", "password"))}
            return _form_page(request, viewer, session, kind, shown, reconnect or "", str(exc), status=422)
    if result.url:
        return _leave(request, viewer, result)
    if not result.ok:
        with runtime.read_factory() as session:
            shown = {k: v for k, v in form.items() if not any(s in k for s in ("secret", "password"))}
            return _form_page(request, viewer, session, kind, shown, reconnect or "", result.message, status=400)
    return _result(request, viewer, result)


@router.post("/{key}/reconnect")
async def reconnect(key: str, request: Request, runtime: Runtime = Depends(get_runtime),
                    viewer: Viewer = Depends(csrf_protect)):
    """One click from a channel's warning: a platform sign-in starts at once with the app credentials the
    channel already has; a form kind (app password, mail password) opens its form to type the new one."""

    def run():
        with unit_of_work(runtime.session_factory) as session:
            info = service.reconnect_info(session, viewer.principal, key, secret(runtime))
            if info["kind"] not in OAUTH:
                return info, None
            return info, service.start(session, viewer.principal, viewer.session_token, info["kind"], {},
                                       _callback_url(request), secret(runtime), client_ip(request), reconnect=key)

    info, result = await asyncio.to_thread(run)
    if result is not None and result.url:
        return _leave(request, viewer, result)
    if result is not None:
        return _result(request, viewer, result)
    return RedirectResponse(f"/governance/accounts/connect/{info['kind']}?reconnect={key}", status_code=303)

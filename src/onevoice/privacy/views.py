"""Pages: a person's data (find, preview, export, erase) for admins; retention rules and runs for admins and
coordinators. Mounted under /governance, with its navigation."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from onevoice.auth.permissions import AUDITORS, POLICY_OWNERS, TEAM_OVERSEERS
from onevoice.channels.service import channel_keys
from onevoice.db import unit_of_work
from onevoice.errors import InvalidInput
from onevoice.governance.api import client_ip
from onevoice.messages.models import KINDS
from onevoice.privacy import access, erasure, retention
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.params import RowId
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

pages = APIRouter(prefix="/governance")


def _nav(viewer: Viewer) -> dict:
    """What the governance navigation shows this person (the same as governance's own pages)."""
    role = viewer.principal.role
    return {"can_own": role in POLICY_OWNERS, "can_oversee": role in TEAM_OVERSEERS, "can_audit": role in AUDITORS}


@pages.get("/privacy")
def privacy_page(request: Request, q: str = "", done: int | None = None, viewer: Viewer = Depends(current_user),
                 session: Session = Depends(get_read_session)):
    q = q[:200]
    return render(request, "privacy/privacy.html", {
        **_nav(viewer), "q": q, "found": erasure.find_contacts(session, viewer.principal, q),
        "requests": erasure.requests(session, viewer.principal), "done": done})


@pages.get("/privacy/contacts/{contact_id}")
def contact_page(contact_id: RowId, request: Request, viewer: Viewer = Depends(current_user),
                 session: Session = Depends(get_read_session)):
    preview = erasure.preview(session, viewer.principal, contact_id)
    found = erasure.find_contacts(session, viewer.principal, str(contact_id))
    contact = next((c for c in found if c["id"] == contact_id), None)
    return render(request, "privacy/contact.html", {**_nav(viewer), "contact": contact, "preview": preview})


@pages.post("/privacy/contacts/{contact_id}/erase")
def erase(contact_id: RowId, request: Request, reference: str = Form(""), confirm: str = Form(""),
          runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    if confirm != "yes":
        raise InvalidInput("tick the box that confirms the erasure: it cannot be undone")
    result = erasure.erase_contact(runtime.session_factory, runtime.read_factory, viewer.principal, contact_id,
                                   reference, client_ip(request), journal=runtime.journal, ingest=runtime.ingest)
    return RedirectResponse(f"/governance/privacy?done={result['request_id']}", status_code=303)


@pages.post("/privacy/contacts/{contact_id}/export")
def export(contact_id: RowId, request: Request, reference: str = Form(""),
           runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    waiting = erasure.store_received(runtime.journal, runtime.ingest)
    with unit_of_work(runtime.session_factory) as session:
        doc = access.export(session, viewer.principal, contact_id, reference, client_ip(request), waiting=waiting)
    body = json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"', "Cache-Control": "no-store"})


@pages.get("/retention")
def retention_page(request: Request, viewer: Viewer = Depends(current_user),
                   session: Session = Depends(get_read_session)):
    retention.require_retention_owner(viewer.principal)
    return render(request, "privacy/retention.html", {
        **_nav(viewer), "rules": retention.list_rules(session), "runs": retention.runs(session),
        "channels": channel_keys(session), "kinds": KINDS,
        "ran": request.query_params.get("ran")})


@pages.post("/retention/rules")
def retention_set(request: Request, channel: str = Form(""), kind: str = Form(""), days: int = Form(...),
                  action: str = Form("anonymize"), runtime: Runtime = Depends(get_runtime),
                  viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        retention.set_rule(session, viewer.principal, channel or None, kind or None, days, action,
                           ip=client_ip(request))
    return RedirectResponse("/governance/retention", status_code=303)


@pages.post("/retention/rules/{rule_id}/remove")
def retention_remove(rule_id: RowId, request: Request, runtime: Runtime = Depends(get_runtime),
                     viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        retention.remove_rule(session, viewer.principal, rule_id, client_ip(request))
    return RedirectResponse("/governance/retention", status_code=303)


@pages.post("/retention/run")
def retention_run(runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    retention.require_retention_owner(viewer.principal)
    result = retention.run(runtime.session_factory, viewer.principal)
    return RedirectResponse(f"/governance/retention?ran={result['id']}", status_code=303)

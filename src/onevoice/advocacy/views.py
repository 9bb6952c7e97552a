"""The Advocates pages: the ranking with detractors and movers, one customer, marks, thanks, the CSV export.
Same services as the JSON API; roles are checked there."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from onevoice.advocacy import service
from onevoice.audit import log as audit
from onevoice.audit.actor import bind_actor
from onevoice.db import unit_of_work
from onevoice.desk.replies import ReplyBlocked
from onevoice.errors import DomainError
from onevoice.governance.api import client_ip
from onevoice.governance.marks import marked_segments
from onevoice.outbox.sender import deliver_due
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user, secret
from onevoice.web.templating import render

router = APIRouter()


@router.get("/advocates")
def advocates_page(request: Request, viewer: Viewer = Depends(current_user),
                   session: Session = Depends(get_read_session)):
    data = service.overview(session, viewer.principal)
    return render(request, "advocacy/advocates.html", {**data, "marks": service.MARKS,
                                                       "can_mark": viewer.principal.role in service.MARKERS})


@router.get("/advocates/export.csv")
def advocates_export(request: Request, runtime: Runtime = Depends(get_runtime),
                     viewer: Viewer = Depends(current_user)):
    with unit_of_work(runtime.session_factory) as session:
        body = service.export_csv(session, viewer.principal)
        # Who took a copy of the customers' standings is on the record, like the audit log's exports.
        audit.record(session, viewer.principal, "advocates.export", "advocates", {"format": "csv"},
                     client_ip(request))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="onevoice-advocates-{stamp}.csv"'})


def _detail(request: Request, session: Session, viewer: Viewer, contact_id: int, **extra):
    status_code = extra.pop("status_code", 200)
    data = service.contact_detail(session, viewer.principal, contact_id)
    return render(request, "advocacy/contact.html", {
        **data, "all_marks": service.MARKS, "thank_text": service.THANK_TEXT, "blocked": None, "error": None,
        "sent": request.query_params.get("sent"), **extra}, status_code=status_code)


@router.get("/advocates/{contact_id}")
def contact_page(contact_id: int, request: Request, viewer: Viewer = Depends(current_user),
                 session: Session = Depends(get_read_session)):
    return _detail(request, session, viewer, contact_id)


@router.post("/advocates/{contact_id}/marks")
async def marks(contact_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    wanted = [str(m) for m in form.getlist("marks")]
    with unit_of_work(runtime.session_factory) as session:
        bind_actor(session, viewer.principal, client_ip(request))
        service.set_marks(session, viewer.principal, contact_id, wanted, client_ip(request))
    return RedirectResponse(f"/advocates/{contact_id}", status_code=303)


@router.post("/advocates/{contact_id}/thank")
async def thank(contact_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    text = str(form.get("text") or "")
    raw_case = str(form.get("case_id") or "").strip()
    case_id = int(raw_case) if raw_case.isdigit() and len(raw_case) < 19 else None

    def work():
        with unit_of_work(runtime.session_factory) as session:
            bind_actor(session, viewer.principal, client_ip(request))
            target, outcome = service.thank(session, viewer.principal, contact_id, text, case_id)
            return target, outcome.job_id is None

    try:
        target, held = await asyncio.to_thread(work)
    except DomainError as exc:
        blocked = exc if isinstance(exc, ReplyBlocked) else None
        with runtime.read_factory() as session:
            return _detail(request, session, viewer, contact_id, thank_text=text, error=str(exc),
                           blocked={"segments": marked_segments(text, blocked.findings),
                                    "findings": blocked.findings} if blocked else None,
                           status_code=exc.status_code)
    await asyncio.to_thread(deliver_due, runtime.session_factory, secret_key=secret(runtime))
    return RedirectResponse(f"/advocates/{contact_id}?sent={'held' if held else 'sent'}&case={target}",
                            status_code=303)

"""Approve or reject a reply that waits for sign-off (from the case page)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request

from onevoice.approvals import service
from onevoice.cases.actions import record
from onevoice.cases.models import Case
from onevoice.db import unit_of_work
from onevoice.outbox.sender import deliver_due
from onevoice.runtime import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.session import Viewer, csrf_protect, secret
from onevoice.web.templating import render

router = APIRouter()


@router.post("/approvals/{approval_id}/decide")
async def decide(approval_id: int, request: Request, decision: str = Form(...), note: str = Form(""),
                 text: str | None = Form(None), runtime: Runtime = Depends(get_runtime),
                 viewer: Viewer = Depends(csrf_protect)):
    """decision=approve (with `text` to edit the reply before it goes out) or reject (with a `note`)."""
    def change():
        with unit_of_work(runtime.session_factory) as session:
            approval = service.decide(session, viewer.principal, approval_id, decision == "approve", note, text)
            case = session.get(Case, approval.case_id)
            live = record(session, case, viewer.principal, f"reply.{approval.status}",
                          {"message_id": approval.message_id, "note": approval.decision_note or ""})
            return live, case.id

    live, case_id = await asyncio.to_thread(change)
    runtime.broker.publish([live])
    if decision == "approve":
        delivered = await asyncio.to_thread(deliver_due, runtime.session_factory, secret_key=secret(runtime))
        runtime.broker.publish(delivered)

    from onevoice.cases.page import case_page

    def page():
        with runtime.read_factory() as session:
            return case_page(session, viewer.principal, case_id)

    return render(request, "cases/_parts.html", {"c": await asyncio.to_thread(page)})

"""Approvals in the pages: the queue of replies and posts waiting for this person's sign-off, and deciding one
(approve, edit and approve, reject with a reason) from the queue or from the case page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onevoice.db import unit_of_work
from onevoice.desk import decisions
from onevoice.desk.page import case_page
from onevoice.errors import InvalidInput
from onevoice.inbox.service import rail
from onevoice.outbox.sender import deliver_due
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user, secret
from onevoice.web.templating import render

router = APIRouter()


@router.get("/approvals")
def queue(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    """What waits for this person's decision, due first: replies (decided on their case) and posts (here)."""
    return _queue(request, session, viewer)


def _queue(request: Request, session: Session, viewer: Viewer, refused: dict | None = None, status_code: int = 200):
    """The queue; `refused` ({"id", "error", "text", "note"}) shows a decision that did not go through on its
    request, with what the approver typed kept."""
    items = decisions.approval_queue(session, viewer.principal, refused)
    return render(request, "approvals/queue.html", {"items": items, "rail": rail(session, viewer.principal),
                                                    "queue": "", "f": None}, status_code=status_code)


@router.post("/approvals/{approval_id}/decide")
async def decide(approval_id: int, request: Request, decision: str = Form(...), note: str = Form(""),
                 text: str | None = Form(None), runtime: Runtime = Depends(get_runtime),
                 viewer: Viewer = Depends(csrf_protect)):
    """decision=approve (with `text` to edit it before it goes out) or reject (with a `note`). A post's request
    (or one decided from the queue, `back=queue`) returns to the queue; a reply's to its case."""
    def change():
        with unit_of_work(runtime.session_factory) as session:
            return decisions.decide(session, viewer.principal, approval_id, decision == "approve", note, text)

    try:
        live, case_id = await asyncio.to_thread(change)
    except InvalidInput as exc:
        if request.query_params.get("back") != "queue":
            raise
        # From the queue: the queue again, the error on this request and the edit and reason kept.
        refused = {"id": approval_id, "error": str(exc), "text": text, "note": note}
        with runtime.read_factory() as session:
            return _queue(request, session, viewer, refused, exc.status_code)
    if live:
        runtime.broker.publish([live])
    if decision == "approve":
        delivered = await asyncio.to_thread(deliver_due, runtime.session_factory, secret_key=secret(runtime))
        runtime.broker.publish(delivered)
    if case_id is None or request.query_params.get("back") == "queue":
        return RedirectResponse("/approvals", status_code=303)

    def page():
        with runtime.read_factory() as session:
            return case_page(session, viewer.principal, case_id)

    return render(request, "cases/_parts.html", {"c": await asyncio.to_thread(page)})

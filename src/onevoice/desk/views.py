"""The case page and everything people do on it (htmx posts that re-render the case in place)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from onevoice.cases import actions, outcome
from onevoice.cases.access import visible_case
from onevoice.db import unit_of_work
from onevoice.desk import handoff, notes, replies
from onevoice.desk.page import case_page
from onevoice.governance.marks import marked_segments
from onevoice.library import service as library
from onevoice.outbox.sender import deliver_due
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user, safe_next, secret
from onevoice.web.templating import render

router = APIRouter()


@router.get("/cases/{case_id}")
def case(case_id: int, request: Request, viewer: Viewer = Depends(current_user),
         session: Session = Depends(get_read_session)):
    data = case_page(session, viewer.principal, case_id)
    data["currency"] = get_runtime(request).settings.currency
    # `back` comes from the link that opened the case (the inbox with its filters): only a path of ours.
    return render(request, "cases/page.html", {"c": data, "back": safe_next(request.query_params.get("back"))})


@router.get("/cases/{case_id}/parts")
def parts(case_id: int, request: Request, viewer: Viewer = Depends(current_user),
          session: Session = Depends(get_read_session)):
    return _parts(request, session, viewer, case_id)


def _parts(request: Request, session: Session, viewer: Viewer, case_id: int, headers: dict | None = None):
    data = case_page(session, viewer.principal, case_id)
    data["currency"] = get_runtime(request).settings.currency
    return render(request, "cases/_parts.html", {"c": data}, headers=headers)


def _act(request: Request, runtime: Runtime, viewer: Viewer, case_id: int, change: Callable,
         headers: dict | None = None):
    """Run one change in its own unit of work, publish the live update after commit, re-render."""
    with unit_of_work(runtime.session_factory) as session:
        live = change(session)
    runtime.broker.publish([live] if isinstance(live, dict) else list(live))
    with runtime.read_factory() as session:
        return _parts(request, session, viewer, case_id, headers)


@router.post("/cases/{case_id}/assign")
def assign(case_id: int, request: Request, user_id: str = Form(""), runtime: Runtime = Depends(get_runtime),
           viewer: Viewer = Depends(csrf_protect)):
    target = int(user_id) if user_id.strip().isdigit() else None
    return _act(request, runtime, viewer, case_id,
                lambda s: actions.assign(s, viewer.principal, case_id, target))


@router.post("/cases/{case_id}/status")
def status(case_id: int, request: Request, status: str = Form(...), runtime: Runtime = Depends(get_runtime),
           viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: actions.set_status(s, viewer.principal, case_id, status))


@router.post("/cases/{case_id}/priority")
def priority(case_id: int, request: Request, priority: str = Form(...), runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: actions.set_priority(s, viewer.principal, case_id, priority))


@router.post("/cases/{case_id}/outcome")
def set_outcome(case_id: int, request: Request, outcome_: str = Form(..., alias="outcome"), amount: str = Form(""),
                currency: str = Form(""), runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    """A sales lead's outcome (Sales, coordinators, admins): won with an amount, lost, or open again."""
    org = runtime.settings.currency
    return _act(request, runtime, viewer, case_id,
                lambda s: outcome.set_outcome(s, viewer.principal, case_id, outcome_, amount or None,
                                              currency or org, org_currency=org))


@router.post("/cases/{case_id}/teams")
def add_team(case_id: int, request: Request, team: str = Form(...), runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: actions.add_team(s, viewer.principal, case_id, team, f"added by {viewer.principal.name}"))


@router.post("/cases/{case_id}/teams/{team}/remove")
def remove_team(case_id: int, team: str, request: Request, runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: actions.remove_team(s, viewer.principal, case_id, team))


@router.post("/cases/{case_id}/handoff")
def hand_off(case_id: int, request: Request, team: str = Form(...), note: str = Form(""),
             runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: handoff.hand_off(s, viewer.principal, case_id, team, note))


@router.post("/cases/{case_id}/notes")
def add_note(case_id: int, request: Request, text: str = Form(""), runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        outcome = notes.add_note(session, viewer.principal, case_id, text)
    runtime.broker.publish([outcome.live])
    # The author is told which mentions notified nobody (the toast; the note in the timeline says it too).
    missed = [f"{m['mention']}: {m['why']}" for m in outcome.not_notified]
    with runtime.read_factory() as session:
        return _parts(request, session, viewer, case_id,
                      headers={"HX-Trigger": json.dumps({"note-added": {"not_notified": missed}})})


@router.post("/cases/{case_id}/correct")
def correct(case_id: int, request: Request, message_id: int = Form(...), field: str = Form(...),
            value: str = Form(...), runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    return _act(request, runtime, viewer, case_id,
                lambda s: handoff.correct_triage(s, viewer.principal, case_id, message_id, field, value))


@router.post("/cases/{case_id}/reply")
async def reply(case_id: int, request: Request, text: str = Form(""), seen: str = Form(""),
                confirm: str = Form(""), answer_id: str = Form(""), runtime: Runtime = Depends(get_runtime),
                viewer: Viewer = Depends(csrf_protect)):
    seen_id = int(seen) if seen.isdigit() else None

    def send():
        with unit_of_work(runtime.session_factory) as session:
            return replies.send_reply(session, viewer.principal, case_id, text, seen_id, bool(confirm),
                                      int(answer_id) if answer_id.isdigit() else None)

    alert = {"HX-Retarget": "#composer-alert", "HX-Reswap": "innerHTML"}
    try:
        outcome = await asyncio.to_thread(send)
    except replies.ReplyCollision as exc:
        return render(request, "cases/_collision.html", {"other": {"by": exc.by, "text": exc.text, "at": exc.at}},
                      headers=alert)
    except replies.ReplyBlocked as exc:
        # htmx only swaps successful responses: the composer gets 200 and shows the findings in place;
        # any other client gets the 422 the refusal is.
        return render(request, "cases/_blocked.html", {"text": exc.text, "findings": exc.findings,
                                                        "segments": marked_segments(exc.text, exc.findings)},
                      status_code=200 if request.headers.get("hx-request") else 422, headers=alert)
    runtime.broker.publish([outcome.live])
    if outcome.job_id is not None:
        # Deliver now rather than wait for the periodic sender; a failure is recorded and retried later.
        asyncio.get_running_loop().run_in_executor(None, _deliver_and_publish, runtime)
    trigger = "reply-sent"
    if outcome.warnings or outcome.approval_id:
        trigger = json.dumps({"reply-sent": {"warnings": [f.message for f in outcome.warnings],
                                             "held": outcome.approval_id is not None}})
    with runtime.read_factory() as session:
        return _parts(request, session, viewer, case_id, headers={"HX-Trigger": trigger})


def _deliver_and_publish(runtime: Runtime) -> None:
    runtime.broker.publish(deliver_due(runtime.session_factory, secret_key=secret(runtime)))


@router.post("/cases/{case_id}/messages/{message_id}/retry")
def retry_send(case_id: int, message_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
               viewer: Viewer = Depends(csrf_protect)):
    response = _act(request, runtime, viewer, case_id,
                    lambda s: replies.retry_reply(s, viewer.principal, case_id, message_id))
    _deliver_and_publish(runtime)
    return response


@router.get("/cases/{case_id}/answers")
def answers(case_id: int, request: Request, q: str = "", viewer: Viewer = Depends(current_user),
            session: Session = Depends(get_read_session)):
    """The composer's library picker: approved answers with this case's variables filled in."""
    data = case_page(session, viewer.principal, case_id)
    values = library.variables_for(data, viewer.principal)
    items = [{"id": a.id, "title": a.title, "kind": a.kind, "text": library.render(a.body, values)}
             for a in library.search(session, q, limit=20)]
    return render(request, "cases/_answers.html", {"items": items, "q": q, "case_id": case_id})


@router.post("/cases/{case_id}/typing")
def typing(case_id: int, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    """Tell others on this case that this person is writing a reply (collision warning)."""
    with runtime.read_factory() as session:
        visible_case(session, viewer.principal, case_id)
    runtime.broker.publish([{"type": "presence", "case_id": case_id, "user_id": viewer.user_id,
                             "name": viewer.principal.name, "state": "typing"}])
    return Response(status_code=204)

"""The incidents page: list, close and reopen by hand (same service as the JSON routes)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from onevoice.db import unit_of_work
from onevoice.incidents import service as incidents
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/incidents")
def incidents_page(request: Request, status: str | None = Query(None), runtime: Runtime = Depends(get_runtime),
                   viewer: Viewer = Depends(current_user)):
    with runtime.read_factory() as session:
        items = incidents.list_incidents(session, viewer.principal, status or None)
    return render(request, "incidents/page.html", {"items": items, "status": status or "",
                                                    "can_handle": incidents.may_handle(viewer.principal)})


def _incident(runtime: Runtime, change) -> RedirectResponse:
    with unit_of_work(runtime.session_factory) as session:
        live = change(session)
    runtime.broker.publish([live])  # after the commit
    return _back("/incidents")


@router.post("/incidents/{incident_id}/close")
def close_incident(incident_id: int, request: Request, reason: str = Form(""),
                   runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    return _incident(runtime, lambda s: incidents.close_by_hand(s, viewer.principal, incident_id, reason,
                                                                _ip(request)))


@router.post("/incidents/{incident_id}/reopen")
def reopen_incident(incident_id: int, request: Request, reason: str = Form(""),
                    runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    return _incident(runtime, lambda s: incidents.reopen_by_hand(s, viewer.principal, incident_id, reason,
                                                                 _ip(request)))

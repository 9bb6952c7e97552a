"""Employee voice pages: an employee's linked handles and what was seen of them; the coordinator's review."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onevoice.advocacy import voice
from onevoice.db import unit_of_work
from onevoice.governance.api import client_ip
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter(prefix="/advocacy/voice")


@router.get("")
def my_voice(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    return render(request, "advocacy/voice.html", voice.my_voice(session, viewer.principal))


@router.post("/handles")
async def link(request: Request, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    with unit_of_work(runtime.session_factory) as session:
        voice.link_handle(session, viewer.principal, str(form.get("network") or ""), str(form.get("handle") or ""),
                          client_ip(request))
    return RedirectResponse("/advocacy/voice", status_code=303)


@router.post("/handles/{handle_id}/revoke")
def revoke(handle_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
           viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        voice.revoke_handle(session, viewer.principal, handle_id, client_ip(request))
    return RedirectResponse("/advocacy/voice", status_code=303)


@router.get("/review")
def review(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    return render(request, "advocacy/voice_review.html", {"seen": voice.review(session, viewer.principal)})

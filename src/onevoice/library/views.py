"""The library page: search, add, edit and archive approved answers and key messages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from onevoice.db import unit_of_work
from onevoice.library import service
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()


@router.get("/library")
def library(request: Request, q: str = "", edit: int | None = None, viewer: Viewer = Depends(current_user),
            session: Session = Depends(get_read_session)):
    editing = service.get(session, edit) if edit else None
    return render(request, "library/page.html", {
        "items": service.search(session, q, limit=200), "q": q, "editing": editing,
        "can_edit": viewer.principal.role in service.EDITORS})


@router.post("/library")
def save(title: str = Form(""), body: str = Form(""), kind: str = Form("answer"), tags: str = Form(""),
         answer_id: str = Form(""), runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        if answer_id.isdigit():
            service.update(session, viewer.principal, int(answer_id), title, body, kind, tags)
        else:
            service.create(session, viewer.principal, title, body, kind, tags)
    return RedirectResponse("/library", status_code=303)


@router.post("/library/{answer_id}/archive")
def archive(answer_id: int, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        service.archive(session, viewer.principal, answer_id)
    return RedirectResponse("/library", status_code=303)

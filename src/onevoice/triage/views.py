"""The models page: which triage model is on, how each version was judged (per class, on the
organization's held-out labels and on the public sets), and whether this install can train at all."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from onevoice.process import Runtime
from onevoice.triage import service
from onevoice.web.deps import get_runtime
from onevoice.web.session import Viewer, current_user
from onevoice.web.templating import render

router = APIRouter()
PAGE = "/triage/models"


@router.get(PAGE)
def models_page(request: Request, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(current_user)):
    with runtime.read_factory() as session:
        state = service.models_overview(session, viewer.principal)
    return render(request, "triage/models.html", state)

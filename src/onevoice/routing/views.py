"""Pages: the playbook editor (versions, check with a dry run, save, activate, learned rules).

Same services as the JSON routes; roles are checked there. A draft with problems is shown again with each
problem's line, never lost.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from onevoice.channels.service import channel_labels
from onevoice.db import unit_of_work
from onevoice.process import Runtime
from onevoice.routing import promote, service
from onevoice.routing.schemas import DryRun, PlaybookOut
from onevoice.routing.validate import Problem
from onevoice.triage.vocabulary import list_entries
from onevoice.web.deps import get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()
PAGE = "/routing/playbook"


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(request: Request, runtime: Runtime, viewer: Viewer, source: str | None = None,
          problems: list[Problem] | None = None, result: DryRun | None = None, sample: dict | None = None,
          note: str = "", selected: PlaybookOut | None = None, status_code: int = 200,
          saved: PlaybookOut | None = None):
    who = viewer.principal
    with runtime.read_factory() as session:
        active = service.active(session, who)
        versions = service.versions(session, who)
        learned = promote.list_learned(session, who)
        # Vocabulary entries that carry a team route after the playbook, like learned rules (routing/vocabulary.py).
        vocabulary_routes = [e for e in list_entries(session, who) if e.team]
        channels = channel_labels(session)
    shown = selected or active
    return render(request, "routing/playbook.html", {
        "active": active, "versions": versions, "learned": learned, "channels": channels, "shown": shown,
        "vocabulary_routes": vocabulary_routes,
        "source": shown.source if source is None else source, "problems": problems, "result": result,
        "sample": sample or {}, "note": note, "saved": saved}, status_code=status_code)


@router.get(PAGE)
def playbook_page(request: Request, version: int | None = Query(None), saved: int | None = Query(None),
                  runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(current_user)):
    selected = saved_row = None
    with runtime.read_factory() as session:
        if version is not None:
            selected = service.get_version(session, viewer.principal, version)
        if saved is not None:
            saved_row = service.get_version(session, viewer.principal, saved)
    return _page(request, runtime, viewer, selected=selected, saved=saved_row)


@router.post(PAGE + "/check")
def check(request: Request, source: str = Form(""), text: str = Form(""), channel: str = Form(""),
          followers: str = Form("0"), note: str = Form(""), runtime: Runtime = Depends(get_runtime),
          viewer: Viewer = Depends(csrf_protect)):
    """Validate the draft and, when it is valid and a sample is given, route the sample with it."""
    sample = {"text": text, "channel": channel, "followers": followers}
    with runtime.read_factory() as session:
        problems = service.validate(session, viewer.principal, source)
        result = None
        if not problems and text.strip():
            n = int(followers) if followers.strip().isdigit() else 0
            result = service.dry_run(session, viewer.principal, runtime.processor.triager, text, source=source,
                                     channel=channel or None, followers=n)
    return _page(request, runtime, viewer, source=source, problems=problems, result=result, sample=sample,
                 note=note, status_code=422 if problems else 200)


@router.post(PAGE + "/save")
def save(request: Request, source: str = Form(""), note: str = Form(""), activate: str = Form(""),
         runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    try:
        with unit_of_work(runtime.session_factory) as session:
            row = service.save(session, viewer.principal, source, note, bool(activate), _ip(request))
    except service.PlaybookInvalid as exc:
        return _page(request, runtime, viewer, source=source, problems=exc.problems, note=note, status_code=422)
    return _back(f"{PAGE}?saved={row.id}")


@router.post(PAGE + "/{playbook_id}/activate")
def activate(playbook_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        service.activate_version(session, viewer.principal, playbook_id, _ip(request))
    return _back(PAGE)


def _learned(request: Request, runtime: Runtime, viewer: Viewer, change, intent: str, subject: str,
             channel_kind: str, team: str) -> RedirectResponse:
    with unit_of_work(runtime.session_factory) as session:
        change(session, viewer.principal, intent, subject, channel_kind, team, _ip(request))
    return _back(PAGE)


@router.post("/routing/learned/promote")
def promote_learned(request: Request, intent: str = Form(""), subject: str = Form(""), channel_kind: str = Form(""),
                    team: str = Form(""), runtime: Runtime = Depends(get_runtime),
                    viewer: Viewer = Depends(csrf_protect)):
    return _learned(request, runtime, viewer, promote.promote, intent, subject, channel_kind, team)


@router.post("/routing/learned/dismiss")
def dismiss_learned(request: Request, intent: str = Form(""), subject: str = Form(""), channel_kind: str = Form(""),
                    team: str = Form(""), runtime: Runtime = Depends(get_runtime),
                    viewer: Viewer = Depends(csrf_protect)):
    return _learned(request, runtime, viewer, promote.dismiss, intent, subject, channel_kind, team)

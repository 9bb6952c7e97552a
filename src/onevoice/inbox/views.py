"""Inbox pages: the queue with its rail and filters, more rows, one row (live updates), rail counts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from onevoice.inbox import notify, service
from onevoice.inbox.filters import Filters, check_queue
from onevoice.web.deps import get_read_session, get_session
from onevoice.web.session import Viewer, csrf_protect, current_user, secure_cookies
from onevoice.web.templating import render

router = APIRouter()
# The last queue a person opened, remembered in a cookie of their browser rather than on their user row: a page
# view then writes nothing (pages read through read-only sessions, and SQLite's one writer is the worker's). The
# value names the user it belongs to, so on a shared browser one person's queue never opens for another.
QUEUE_COOKIE = "onevoice_queue"
QUEUE_COOKIE_DAYS = 365


def _view(request: Request, viewer: Viewer) -> tuple[str, Filters]:
    queue = request.query_params.get("queue") or service.default_queue(viewer.principal)
    return check_queue(queue), Filters.parse(request.query_params)


def _remembered(request: Request, viewer: Viewer) -> str | None:
    owner, _, queue = request.cookies.get(QUEUE_COOKIE, "").partition(":")
    return queue if owner and owner == str(viewer.user_id) else None


@router.get("/inbox")
def inbox(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    chosen = request.query_params.get("queue")
    queue = check_queue(chosen) if chosen else service.start_queue(session, viewer.principal,
                                                                   _remembered(request, viewer))
    f = Filters.parse(request.query_params)
    page = service.queue_page(session, viewer.principal, queue, f, request.query_params.get("cursor"))
    response = render(request, "inbox/page.html", {
        "queue": queue, "f": f, "page": page, "rail": service.rail(session, viewer.principal),
        "choices": service.filter_choices(session),
        "notifications": notify.recent_for(session, viewer.principal, 8),
        "incident_topic": service.incident_topic(session, int(f.incident)) if f.incident else None,
    })
    if chosen and viewer.user_id is not None:
        response.set_cookie(QUEUE_COOKIE, f"{viewer.user_id}:{queue}", max_age=QUEUE_COOKIE_DAYS * 86400,
                            httponly=True, samesite="lax", secure=secure_cookies(request, request.app.state.runtime),
                            path="/inbox")
    return response


@router.get("/inbox/rows")
def more_rows(request: Request, viewer: Viewer = Depends(current_user),
              session: Session = Depends(get_read_session)):
    queue, f = _view(request, viewer)
    page = service.queue_page(session, viewer.principal, queue, f, request.query_params.get("cursor"))
    return render(request, "inbox/_rows.html", {"queue": queue, "f": f, "page": page})


@router.get("/inbox/row/{case_id}")
def one_row(case_id: int, request: Request, viewer: Viewer = Depends(current_user),
            session: Session = Depends(get_read_session)):
    queue, f = _view(request, viewer)
    row = service.queue_row(session, viewer.principal, queue, f, case_id)
    if row is None:
        return Response(status_code=204)
    return render(request, "inbox/_row.html", {"queue": queue, "f": f, "c": row})


@router.get("/inbox/rail")
def rail(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    queue, f = _view(request, viewer)
    return render(request, "inbox/_rail.html", {"queue": queue, "f": f,
                                                "rail": service.rail(session, viewer.principal)})


@router.get("/notifications")
def notifications(request: Request, viewer: Viewer = Depends(current_user),
                  session: Session = Depends(get_read_session)):
    """Yours and your teams' notifications, newest first; unread ones (the badge) are marked."""
    return render(request, "inbox/notifications.html", {"items": notify.recent_for(session, viewer.principal, 100)})


@router.post("/notifications/read")
def notifications_read(request: Request, viewer: Viewer = Depends(csrf_protect),
                       session: Session = Depends(get_session)):
    notify.mark_read(session, viewer.principal)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse("/notifications", status_code=303)  # the plain form on the notifications page

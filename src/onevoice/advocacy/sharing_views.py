"""Employee advocacy pages: the Share feed (curate, approve, share), the participation view, the settings, and
the public short links /s/<code>. Same services as the API; roles are checked there."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, time
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from onevoice.advocacy import participation, sharing
from onevoice.advocacy.links import is_previewer
from onevoice.advocacy.models import NETWORKS
from onevoice.audit.actor import bind_actor
from onevoice.db import unit_of_work
from onevoice.errors import DomainError, Forbidden, InvalidInput
from onevoice.governance.api import client_ip
from onevoice.governance.marks import marked_segments
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user
from onevoice.web.templating import render

router = APIRouter()
HERE = Path(__file__).parent


@router.get("/advocacy/static/advocacy.css")
def _css():
    return FileResponse(HERE / "static" / "advocacy.css", media_type="text/css")


def _feed(request: Request, session: Session, viewer: Viewer, status_code: int = 200, **extra):
    ctx = {**participation.feed(session, viewer.principal), "form": {}, "error": None, "blocked": None, "marked": None,
           "done": request.query_params.get("done"), **extra}
    return render(request, "advocacy/feed.html", ctx, status_code=status_code)


@router.get("/advocacy")
def feed_page(request: Request, viewer: Viewer = Depends(current_user), session: Session = Depends(get_read_session)):
    if viewer.principal.role == "partner":
        raise Forbidden("partners do not share the organization's content")
    return _feed(request, session, viewer)


def _expiry(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvalidInput(f"unreadable expiry date {raw!r} (YYYY-MM-DD)") from exc
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)  # the end of that day, UTC


@router.post("/advocacy/items")
async def create_item(request: Request, runtime: Runtime = Depends(get_runtime),
                      viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("title", "text", "link_url", "media_url", "media_alt", "campaign",
                                                  "expires_on")}
    variants = {n: str(form.get(f"variant_{n}") or "") for n in NETWORKS}
    try:
        with unit_of_work(runtime.session_factory) as session:
            bind_actor(session, viewer.principal, client_ip(request))
            item = sharing.create_item(session, viewer.principal, values["title"], values["text"],
                                       values["link_url"], values["media_url"], values["media_alt"], variants,
                                       values["campaign"], _expiry(values["expires_on"]))
            item_id = item.id
    except DomainError as exc:
        blocked = exc if isinstance(exc, sharing.ItemBlocked) else None
        marked = {part: marked_segments(values["text"] if part == "text" else variants.get(
            next((n for n, name in sharing.NETWORK_NAMES.items() if part.startswith(name)), ""), ""), fs)
            for part, fs in blocked.blocked.items()} if blocked else None
        with runtime.read_factory() as session:
            return _feed(request, session, viewer, exc.status_code, form={**values, **{f"variant_{n}": v for n, v
                                                                                      in variants.items()}},
                         error=None if blocked else str(exc), blocked=blocked, marked=marked)
    return RedirectResponse(f"/advocacy?done={item_id}", status_code=303)


@router.post("/advocacy/items/{item_id}/decide")
async def decide(item_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
                 viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    with unit_of_work(runtime.session_factory) as session:
        sharing.decide(session, viewer.principal, item_id, form.get("decision") == "approve",
                       str(form.get("note") or ""), client_ip(request))
    return RedirectResponse("/advocacy", status_code=303)


@router.post("/advocacy/items/{item_id}/withdraw")
def withdraw(item_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
             viewer: Viewer = Depends(csrf_protect)):
    with unit_of_work(runtime.session_factory) as session:
        sharing.withdraw(session, viewer.principal, item_id, client_ip(request))
    return RedirectResponse("/advocacy", status_code=303)


@router.post("/advocacy/mastodon")
async def mastodon(request: Request, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    with unit_of_work(runtime.session_factory) as session:
        sharing.set_mastodon_instance(session, viewer.principal, str(form.get("instance") or ""))
    return RedirectResponse("/advocacy", status_code=303)


@router.get("/advocacy/items/{item_id}/share/{network}")
def share(item_id: int, network: str, request: Request, t: str = "", runtime: Runtime = Depends(get_runtime),
          viewer: Viewer = Depends(current_user)):
    """One click from the feed: a link (not a form, so the page's form-action policy does not stop the jump to
    the network) carrying the page's CSRF token, so another site cannot make someone share."""
    if not t or not hmac.compare_digest(t, viewer.csrf_token):
        raise Forbidden("this share link did not come from your Share page: open it there again")
    with unit_of_work(runtime.session_factory) as session:
        bind_actor(session, viewer.principal, client_ip(request))
        target = sharing.share(session, viewer.principal, item_id, network, str(request.base_url))
    return RedirectResponse(target, status_code=303, headers={"Referrer-Policy": "no-referrer"})


@router.get("/advocacy/participation")
def participation_page(request: Request, days: int = 30, viewer: Viewer = Depends(current_user),
                       session: Session = Depends(get_read_session)):
    data = participation.participation(session, viewer.principal, days=max(1, min(days, 365)))
    return render(request, "advocacy/participation.html", {**data, "network_names": sharing.NETWORK_NAMES})


@router.post("/advocacy/settings")
async def save_settings(request: Request, runtime: Runtime = Depends(get_runtime),
                        viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    with unit_of_work(runtime.session_factory) as session:
        sharing.save_settings(session, viewer.principal, bool(form.get("leaderboard")),
                              [str(t) for t in form.getlist("curator_teams")], client_ip(request))
    return RedirectResponse("/advocacy/participation", status_code=303)


GONE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link not available</title></head>"
        "<body><main><h1>This link does not lead anywhere</h1><p>It may have been mistyped, or what it shared "
        "was withdrawn or has expired.</p></main></body></html>")


@router.get("/s/{code}")
def short_link(code: str, request: Request, runtime: Runtime = Depends(get_runtime)):
    """Public: redirect to the item's approved link with UTM parameters, and count the click (once per clicker
    and link per half hour; previews by link unfurlers are not clicks; a client over the rate is refused)."""
    limiter = request.app.state.click_limiter
    allowed, count = limiter.check(client_ip(request), code)
    if not allowed:
        return HTMLResponse("Too many requests: try again in a minute.", status_code=429,
                            headers={"Retry-After": "60", "Cache-Control": "no-store"})
    with unit_of_work(runtime.session_factory) as session:
        found = sharing.resolve(session, code)
        if found is None:
            return HTMLResponse(GONE, status_code=404, headers={"Cache-Control": "no-store"})
        row, target = found
        if count and not is_previewer(request.headers.get("user-agent")):
            sharing.count_click(session, row.id)
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store",
                                                              "Referrer-Policy": "no-referrer"})


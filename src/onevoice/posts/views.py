"""The Publish page: a composer (channels with their limits, a live counter, schedule, media) and the posts
by state (scheduled by day, awaiting approval, sent, failed) with cancel, retry and delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from onevoice.db import unit_of_work
from onevoice.errors import DomainError, InvalidInput
from onevoice.governance.marks import marked_segments
from onevoice.inbox.service import rail
from onevoice.outbox.sender import deliver_due
from onevoice.posts import compose, service
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime
from onevoice.web.session import Viewer, csrf_protect, current_user, secret
from onevoice.web.templating import render

router = APIRouter()
HERE = Path(__file__).parent
STATIC = {"posts.css": "text/css", "posts.js": "text/javascript"}


@router.get("/posts/static/{name}")
def _static(name: str):
    if name not in STATIC:
        return HTMLResponse("not found", status_code=404)
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])
TABS = (("", "All"), ("scheduled", "Scheduled"), ("awaiting_approval", "Awaiting approval"), ("draft", "Drafts"),
        ("sent", "Sent"), ("failed", "Failed"))


def _page(request: Request, session: Session, viewer: Viewer, state: str | None, form: dict | None = None,
          error: str | None = None, blocked: service.PostBlocked | None = None, status_code: int = 200):
    who = viewer.principal
    posts = service.list_posts(session, who, state or None)
    days: dict[str, list] = {}
    for p in sorted((p for p in posts if p.state == "scheduled"), key=lambda p: p.scheduled_at):
        days.setdefault(p.scheduled_at.date().isoformat(), []).append(p)
    ctx = {"channels": [c.to_dict() for c in compose.publishable(session, who)], "posts": posts, "state": state or "",
           "tabs": TABS, "calendar": days, "form": form or {}, "error": error, "blocked": blocked,
           "segments": marked_segments(blocked.text, blocked.findings) if blocked else [],
           "rail": rail(session, who), "queue": "", "f": None, "done": request.query_params.get("done")}
    return render(request, "posts/page.html", ctx, status_code=status_code)


@router.get("/posts")
def posts_page(request: Request, state: str | None = None, viewer: Viewer = Depends(current_user),
               session: Session = Depends(get_read_session)):
    return _page(request, session, viewer, state)


def _schedule(form) -> datetime | None:
    """The browser sends the chosen local time converted to UTC (`scheduled_at`); without script, the
    `datetime-local` value is read as UTC, as the page says."""
    raw = str(form.get("scheduled_at") or "").strip() or str(form.get("schedule_local") or "").strip()
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"unreadable schedule time {raw!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@router.post("/posts")
async def create(request: Request, runtime: Runtime = Depends(get_runtime), viewer: Viewer = Depends(csrf_protect)):
    form = await request.form()
    values = {"text": str(form.get("text") or ""), "channels": [str(c) for c in form.getlist("channels")],
              "media_url": str(form.get("media_url") or ""), "media_alt": str(form.get("media_alt") or ""),
              "schedule_local": str(form.get("schedule_local") or ""), "sponsored": bool(form.get("sponsored"))}
    media = [{"url": values["media_url"], "alt": values["media_alt"]}] if values["media_url"].strip() else []
    draft = form.get("action") == "draft"

    def work():
        with unit_of_work(runtime.session_factory) as session:
            out = service.create_post(session, viewer.principal, values["text"], values["channels"], media,
                                      _schedule(form), values["sponsored"], draft)
            return out.post.id

    try:
        post_id = await asyncio.to_thread(work)
    except DomainError as exc:
        # The page again with everything typed kept, and what is wrong (the findings marked in place).
        blocked = exc if isinstance(exc, service.PostBlocked) else None
        with runtime.read_factory() as session:
            return _page(request, session, viewer, None, values, None if blocked else str(exc), blocked,
                         exc.status_code)
    await asyncio.to_thread(deliver_due, runtime.session_factory, secret_key=secret(runtime))
    return RedirectResponse(f"/posts?done={post_id}", status_code=303)


def _action(name: str, call):
    @router.post(f"/posts/{{post_id}}/{name}")
    async def act(post_id: int, request: Request, runtime: Runtime = Depends(get_runtime),
                  viewer: Viewer = Depends(csrf_protect)):
        form = await request.form()
        channel = str(form.get("channel") or "") or None

        def work():
            with unit_of_work(runtime.session_factory) as session:
                call(session, viewer.principal, post_id, channel)

        try:
            await asyncio.to_thread(work)
        except service.PostBlocked as exc:
            with runtime.read_factory() as session:
                return _page(request, session, viewer, None, {"text": exc.text}, None, exc, exc.status_code)
        await asyncio.to_thread(deliver_due, runtime.session_factory, secret_key=secret(runtime))
        return RedirectResponse(f"/posts?done={post_id}", status_code=303)

    act.__name__ = f"post_{name}"
    return act


_action("cancel", lambda s, who, pid, _ch: service.cancel_post(s, who, pid))
_action("delete", lambda s, who, pid, ch: service.delete_post(s, who, pid, ch))
_action("retry", lambda s, who, pid, ch: service.retry_post(s, who, pid, ch))
_action("submit", lambda s, who, pid, _ch: service.submit_post(s, who, pid))

"""Live updates for open pages (server-sent events): changed cases, rail counts, and who is on a case.

Presence rides on the same broker as case updates, so it works across web nodes with Redis: a page
watching a case announces "joined" on connect (pages already there answer "viewing" at once) and
"viewing" every few seconds, "typing" while its composer is in
use (POST /cases/{id}/typing), and "left" when it disconnects. Other pages drop a name they have not heard
from for PRESENCE_TTL seconds, so a crashed browser disappears on its own.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from onevoice.cases.access import visible_case
from onevoice.cases.partner_view import live_for_partner
from onevoice.live.api import grant_check
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.session import Viewer, current_user

router = APIRouter()
HEARTBEAT = 8.0
PRESENCE_TTL = 25


def _for_viewer(event: dict, viewer: Viewer, case_id: int | None, grant=None) -> dict | None:
    kind = event.get("type", "")
    if kind == "presence":
        if case_id is None or event.get("case_id") != case_id or event.get("user_id") == viewer.user_id:
            return None
        return event
    if not kind.startswith("case.") and kind != "incident":
        return None
    p = viewer.principal
    if kind == "incident":
        # The organization's situation, not a case: everyone but partners (as on /incidents).
        return None if p.by_grant else {"type": kind, "case_id": None, "mine": p.sees_all,
                                        "change": event.get("change"), "actor": event.get("actor")}
    teams = set(event.get("teams") or [])
    mine = p.sees_all or bool(teams & set(p.team_keys))
    if not mine and event.get("case_id") != case_id:
        return None  # another team's case (or one whose teams the event does not say) unless it is this page's
    if grant is not None and not grant(event.get("case_id")):
        return None  # a partner hears only about cases within their grant (channel and team), asked last: a query
    # Only ids and the kind of change go to the browser: it fetches what it may see through the pages.
    out = {"type": kind, "case_id": event.get("case_id"), "mine": mine, "change": event.get("change"),
           "actor": event.get("actor")}
    return live_for_partner(out, p) if p.by_grant else out


async def _stream(request: Request, runtime: Runtime, viewer: Viewer, case_id: int | None):
    subscription = runtime.broker.subscribe().__aiter__()
    grant = grant_check(runtime, viewer.principal) if viewer.principal.by_grant else None
    presence = {"type": "presence", "case_id": case_id, "user_id": viewer.user_id,
                "name": viewer.principal.name}
    yield ServerSentEvent(comment="connected", retry=2000)
    pending = asyncio.ensure_future(subscription.__anext__())
    await asyncio.sleep(0)  # let the subscription register before announcing, so answers reach us
    try:
        if case_id is not None:
            # "joined" asks everyone already on the case to answer at once, instead of at their next
            # heartbeat: the newcomer sees who is there within a round trip.
            runtime.broker.publish([{**presence, "state": "joined"}])
        while True:  # EventSourceResponse ends this generator when the page goes away
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT)
            if not done:
                # Still here: say so to the others on the case (the keep-alive ping is EventSourceResponse's).
                if case_id is not None:
                    runtime.broker.publish([{**presence, "state": "viewing"}])
                continue
            event = pending.result()
            pending = asyncio.ensure_future(subscription.__anext__())
            out = _for_viewer(event, viewer, case_id, grant)
            if out is not None and out["type"] == "presence" and out.get("state") == "joined":
                runtime.broker.publish([{**presence, "state": "viewing"}])
            if out is not None:
                yield ServerSentEvent(event=out["type"], data=orjson.dumps(out).decode())
    finally:
        pending.cancel()
        if case_id is not None:
            runtime.broker.publish([{**presence, "state": "left"}])
        with contextlib.suppress(Exception):
            await subscription.aclose()


@router.get("/live")
async def live(request: Request, case: int | None = None, runtime: Runtime = Depends(get_runtime),
               viewer: Viewer = Depends(current_user)):
    if case is not None:
        with runtime.read_factory() as session:
            visible_case(session, viewer.principal, case)
    return EventSourceResponse(_stream(request, runtime, viewer, case), ping=HEARTBEAT, sep="\n")

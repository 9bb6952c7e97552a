"""Server-sent events: new and changed cases, as they happen."""

from __future__ import annotations

import contextlib

import orjson
from fastapi import APIRouter, Depends, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from onevoice.auth.principal import Principal
from onevoice.cases.access import visible_ids
from onevoice.cases.partner_view import live_for_partner
from onevoice.process import Runtime
from onevoice.web.deps import api_principal, get_runtime, require_scope
from onevoice.web.responses import AUTH_ERRORS

HEARTBEAT = 15.0  # seconds between keep-alive comments, so proxies keep the connection open
router = APIRouter(prefix="/api/v1", tags=["live"])


def grant_check(runtime: Runtime, who: Principal):
    """case id -> may this person (held to a grant) hear about it; asked once per event, partners only."""

    def check(case_id) -> bool:
        if case_id is None:
            return False
        with runtime.read_factory() as session:
            return bool(visible_ids(session, who, [case_id]))

    return check


async def sse_stream(runtime: Runtime, team: str | None, allowed: frozenset[str] | None = None, grant=None,
                     shape=None):
    """The events this reader may hear, as server-sent events. EventSourceResponse (sse-starlette) sends the
    keep-alive pings and ends this generator when the client goes away (its `finally` then unsubscribes)."""
    subscription = runtime.broker.subscribe().__aiter__()
    yield ServerSentEvent(comment="connected")
    try:
        async for event in subscription:
            if team and team not in (event.get("teams") or []):
                continue
            if allowed is not None and not allowed & set(event.get("teams") or []):
                continue  # someone who sees only their teams hears only about their teams' cases
            if grant is not None and not grant(event.get("case_id")):
                continue  # a partner hears only about cases within their grant (channel and team)
            if shape is not None:
                event = shape(event)
            yield ServerSentEvent(event=event.get("type", "message"), data=orjson.dumps(event).decode())
    finally:
        # Cancelled while the subscription was mid-read: closing it then raises, as on the pages.
        with contextlib.suppress(Exception):
            await subscription.aclose()


@router.get("/stream", dependencies=[Depends(require_scope("cases:read"))],
            responses={**AUTH_ERRORS, 200: {"content": {"text/event-stream": {}},
                                            "description": "server-sent events, one JSON object each"}})
async def stream(request: Request, team: str | None = None, runtime: Runtime = Depends(get_runtime),
                 who: Principal = Depends(api_principal)):
    """Live case events (`case.created`, `case.updated`, `incident`), optionally for one team. A token of
    someone who does not see every team gets only the events of their teams' cases."""
    allowed = None if who.sees_all else frozenset(who.team_keys)
    grant = grant_check(runtime, who) if who.by_grant else None
    shape = (lambda event: live_for_partner(event, who)) if who.by_grant else None
    return EventSourceResponse(sse_stream(runtime, team, allowed=allowed, grant=grant, shape=shape), ping=HEARTBEAT,
                               sep="\n")

"""JSON routes for publishing: /api/v1/posts (token scopes posts:read, posts:write; a token acts as its user)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from onevoice.auth.principal import Principal
from onevoice.db import unit_of_work
from onevoice.outbox.sender import deliver_due
from onevoice.posts import compose, service
from onevoice.posts.schemas import (
    Blocked,
    PostCancelled,
    PostDeleting,
    PostOut,
    PostRetried,
    Posts,
    PostSent,
    PublishableChannels,
)
from onevoice.process import Runtime
from onevoice.web.deps import api_principal, get_read_session, get_runtime, require_scope, require_token
from onevoice.web.params import RowId
from onevoice.web.responses import AUTH_ERRORS, RECORD_ERRORS, FastJSON

# A 422 is either a parameter that is not valid or the guard's refusal with its findings (`Blocked`).
BLOCKED = {422: {"model": Blocked, "description": "the policy guard blocks the text (its findings by channel), "
                                                  "or a parameter or the body is not valid"}}

router = APIRouter(prefix="/api/v1/posts", tags=["posts"], dependencies=[Depends(require_token)])
READ = [Depends(require_scope("posts:read"))]
WRITE = [Depends(require_scope("posts:write"))]


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    mime: str = ""
    alt: str = Field("", max_length=1000)


class PostIn(BaseModel):
    # Unknown fields are refused: a misspelt "schedule_at" would otherwise publish at once.
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=compose.MAX_TEXT)
    channels: list[str] = Field(description="channel keys; each must publish and be one you may post on")
    media: list[MediaIn | str] = Field(default_factory=list, description="image or video URLs (channels with media)")
    scheduled_at: datetime | None = Field(None, description="when to publish, with a time zone; omit for now")
    sponsored: bool = Field(False, description="sponsored content: the guard requires a disclosure tag")
    draft: bool = Field(False, description="keep it as a draft; POST /{id}/submit sends it for checks")


def blocked_response(exc: service.PostBlocked) -> FastJSON:
    return FastJSON({"detail": str(exc), "blocked": {k: [f.to_dict() for f in fs]
                                                         for k, fs in exc.blocked.items()}}, status_code=422)


async def _send(runtime: Runtime, work, ok_status: int = 200):
    """Run one unit of work, then deliver what it queued (after the commit)."""
    def run():
        with unit_of_work(runtime.session_factory) as session:
            return work(session)

    try:
        result = await asyncio.to_thread(run)
    except service.PostBlocked as exc:
        return blocked_response(exc)
    await asyncio.to_thread(deliver_due, runtime.session_factory,
                            secret_key=runtime.settings.secret_key.get_secret_value())
    who, post_id, extra = result
    with runtime.read_factory() as session:
        return FastJSON(service.describe(session, service.get_visible(session, who, post_id)).model_dump() | extra,
                        status_code=ok_status)


@router.get("/channels", response_model=PublishableChannels, responses=AUTH_ERRORS,
            dependencies=READ)
def channels(who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    """The channels you may publish on, with their length limit and whether they take media and deletes."""
    return {"items": [c.to_dict() for c in compose.publishable(session, who)]}


@router.get("", response_model=Posts, responses=AUTH_ERRORS, dependencies=READ)
def list_posts(state: str | None = Query(None, description="draft, awaiting_approval, scheduled, queued, sent, "
                                                          "failed, rejected, cancelled, deleting, deleted"),
               limit: int = Query(100, ge=1, le=500), who: Principal = Depends(api_principal),
               session: Session = Depends(get_read_session)):
    return Posts(items=service.list_posts(session, who, state, limit))


@router.post("", dependencies=WRITE, status_code=201, response_model=PostSent,
             responses={**AUTH_ERRORS, **BLOCKED})
async def create_post(body: PostIn, request: Request, runtime: Runtime = Depends(get_runtime),
                      who: Principal = Depends(api_principal)):
    """Publish (or hold for approval, or schedule) a post; 422 with the guard's findings when it is blocked."""
    media = [m if isinstance(m, str) else m.model_dump() for m in body.media]

    def work(session):
        out = service.create_post(session, who, body.text, body.channels, media, body.scheduled_at, body.sponsored,
                                  body.draft)
        return who, out.post.id, {"warnings": [f.to_dict() for f in out.warnings], "held": out.held,
                                  "scheduled": out.scheduled}

    return await _send(runtime, work, 201)


@router.get("/{post_id}", response_model=PostOut, responses=RECORD_ERRORS,
            dependencies=READ)
def get_post(post_id: RowId, who: Principal = Depends(api_principal), session: Session = Depends(get_read_session)):
    return service.describe(session, service.get_visible(session, who, post_id))


@router.post("/{post_id}/submit", dependencies=WRITE, response_model=PostSent,
             responses={**RECORD_ERRORS, **BLOCKED})
async def submit(post_id: RowId, runtime: Runtime = Depends(get_runtime), who: Principal = Depends(api_principal)):
    def work(session):
        out = service.submit_post(session, who, post_id)
        return who, post_id, {"warnings": [f.to_dict() for f in out.warnings], "held": out.held,
                              "scheduled": out.scheduled}

    return await _send(runtime, work)


@router.post("/{post_id}/cancel", dependencies=WRITE, response_model=PostCancelled, responses=RECORD_ERRORS)
async def cancel(post_id: RowId, runtime: Runtime = Depends(get_runtime), who: Principal = Depends(api_principal)):
    return await _send(runtime, lambda s: (who, post_id, {"cancelled": service.cancel_post(s, who, post_id)}))


@router.post("/{post_id}/retry", dependencies=WRITE, response_model=PostRetried, responses=RECORD_ERRORS)
async def retry(post_id: RowId, channel: str | None = None, runtime: Runtime = Depends(get_runtime),
                who: Principal = Depends(api_principal)):
    return await _send(runtime, lambda s: (who, post_id, {"retried": len(service.retry_post(s, who, post_id,
                                                                                              channel))}))


@router.delete("/{post_id}", dependencies=WRITE, response_model=PostDeleting, responses=RECORD_ERRORS)
async def delete(post_id: RowId, channel: str | None = Query(None, description="only this channel's copy"),
                 runtime: Runtime = Depends(get_runtime), who: Principal = Depends(api_principal)):
    """Remove the post from the platforms it was published on (and stop copies not yet out)."""
    return await _send(runtime, lambda s: (who, post_id, {"deleting": len(service.delete_post(s, who, post_id,
                                                                                               channel))}))

"""JSON routes for messages: intake, reading, retrying."""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from onevoice.messages import service
from onevoice.messages.schemas import MessageDetail, MessagePage, Retried
from onevoice.ops import metrics
from onevoice.pipeline.intake import AcceptResult, BatchTooLarge, accept_batch
from onevoice.pipeline.schemas import IntakeOut
from onevoice.process import Runtime
from onevoice.web.deps import get_read_session, get_runtime, require_scope, require_sees_all, require_token
from onevoice.web.params import RowCursor, RowId
from onevoice.web.responses import AUTH_ERRORS, BAD_BODY, NOT_FOUND, Problem

router = APIRouter(prefix="/api/v1/messages", tags=["messages"],
                   dependencies=[Depends(require_token), Depends(require_sees_all)])

EXAMPLE = {
    "channel": "mastodon-main", "external_id": "109876", "kind": "mention",
    "author": {"external_id": "acct-42", "handle": "@ana@example.social", "name": "Ana", "followers": 120},
    "text": "@acme my order #1234 never arrived", "created_at": "2026-11-20T10:15:00Z",
    "in_reply_to": None, "url": "https://example.social/@ana/109876", "raw": {},
}


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON, or a 4xx that says what is wrong with it (never a 500)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body too large ({declared} bytes, at most {limit})")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body too large (more than {limit} bytes)")
    if not body.strip():
        raise HTTPException(400, "empty body: send a JSON message or {\"messages\": [...]}")
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError as exc:
        try:
            text = bytes(body).decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as bad:
            raise HTTPException(400, f"body is not valid JSON: not UTF-8 (byte {bytes(body)[bad.start]:#04x} "
                                     f"at offset {bad.start})") from None
        try:
            # The fallback reads what orjson refuses but JSON allows (lone surrogates in escapes).
            return json.loads(text)
        except RecursionError:
            raise HTTPException(400, "body is not valid JSON: nested too deeply") from None
        except ValueError:
            raise HTTPException(400, f"body is not valid JSON: {exc}") from None


@router.post("", status_code=202, response_model=IntakeOut,
             responses={**AUTH_ERRORS, **BAD_BODY, 422: {"model": Problem, "description": "JSON, but neither a "
                                                                            "message nor {\"messages\": [...]}"}},
             dependencies=[Depends(require_scope("messages:write"))],
             openapi_extra={"requestBody": {"content": {"application/json": {"example": EXAMPLE}}}})
async def post_messages(request: Request, runtime: Runtime = Depends(get_runtime)) -> AcceptResult:
    """Accept one message or `{"messages": [...]}` (up to 1,000); idempotent on (channel, external_id)."""
    settings = runtime.settings
    payload = await read_json(request, settings.max_body_bytes)
    if isinstance(payload, dict) and "messages" in payload:
        items = payload["messages"]
        if not isinstance(items, list):
            raise HTTPException(422, "'messages' must be a list of message objects")
    elif isinstance(payload, dict):
        if (key := _batch_under_another_key(payload)) is not None:
            raise HTTPException(422, f"a batch goes under \"messages\": got a list of objects under {key!r} "
                                     "and no message fields")
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise HTTPException(422, "send a JSON object (one message) or {\"messages\": [...]}")

    return await run_in_threadpool(_accept, runtime, items)


def _batch_under_another_key(payload: dict) -> str | None:
    """`{"items": [...]}` and the like: a batch put under another key would otherwise be read as one message and
    rejected for a missing channel, which names the wrong mistake."""
    if "channel" in payload or "text" in payload:
        return None
    return next((k for k, v in payload.items() if isinstance(v, list) and v and isinstance(v[0], dict)), None)


def _accept(runtime: Runtime, items: list):
    settings = runtime.settings
    try:
        with runtime.session_factory.begin() as session:
            result = accept_batch(session, items, settings.max_text_chars, settings.max_batch)
    except BatchTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    fresh = result.new_ids
    metrics.ACCEPTED.inc(len(fresh))
    metrics.DUPLICATES.inc(len(result.accepted) - len(fresh))
    metrics.REJECTED.inc(len(result.rejected))
    # Enqueued only after the commit: a worker must never look for a row that is not there yet.
    runtime.queue.enqueue(fresh)
    runtime.wake_worker()
    return result


@router.get("", response_model=MessagePage, responses=AUTH_ERRORS,
            dependencies=[Depends(require_scope("messages:read"))])
def list_messages(status: str | None = Query(None, description="accepted, processed, failed..."),
                  cursor: RowCursor | None = None, limit: int = Query(50, ge=1, le=500),
                  session: Session = Depends(get_read_session)):
    return service.list_messages(session, status, cursor, limit)


@router.get("/{message_id}", response_model=MessageDetail,
            responses={**AUTH_ERRORS, **NOT_FOUND}, dependencies=[Depends(require_scope("messages:read"))])
def get_message(message_id: RowId, session: Session = Depends(get_read_session)):
    return service.get_message(session, message_id)


@router.post("/retry", response_model=Retried, responses=AUTH_ERRORS,
             dependencies=[Depends(require_scope("messages:write"))])
def retry(ids: list[RowId] | None = Body(None, embed=True), runtime: Runtime = Depends(get_runtime)):
    """Put failed messages (all, or these ids) back through the pipeline."""
    with runtime.session_factory.begin() as session:
        retried = service.retry_failed(session, ids)
    runtime.queue.enqueue(retried)
    runtime.wake_worker()
    return Retried(retried=retried)

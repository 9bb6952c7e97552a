"""`/webhooks/{channel key}`: platform deliveries, verified, stored first, processed later."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from onevoice.channels.service import connector_for, get_channel
from onevoice.connectors.base import PayloadError, SignatureError, WebhookRequest
from onevoice.errors import NotFound
from onevoice.pipeline.inbound import accept_from_connector, store_failure
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.responses import FastJSON

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger(__name__)
MAX_BODY = 5_000_000


def _refused(status: int, key: str, why: str) -> HTTPException:
    """The same answer for an unknown or disabled channel and a failed check, so that nobody can find out
    which channel keys exist by probing; the reason is logged for the operator instead."""
    log.info("webhook for %r refused: %s", key[:100], why)
    return HTTPException(status, "webhook refused")


async def _request(request: Request) -> WebhookRequest:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"webhook body larger than {MAX_BODY} bytes")
    return WebhookRequest.build(request.method, dict(request.headers), dict(request.query_params), bytes(body))


def _connector(runtime: Runtime, key: str, refusal: int):
    with runtime.read_factory() as session:
        try:
            channel = get_channel(session, key)
        except NotFound:
            raise _refused(refusal, key, "no such channel") from None
        if not channel.enabled:
            raise _refused(refusal, key, "the channel is disabled")
        return channel, connector_for(channel, runtime.settings.secret_key.get_secret_value())


@router.get("/{key}")
async def handshake(key: str, request: Request, runtime: Runtime = Depends(get_runtime)):
    """The platform's verification handshake (Meta's hub.challenge, for example)."""
    req = await _request(request)
    _channel, connector = _connector(runtime, key, 403)
    answer = connector.handshake(req)
    if answer is None:
        raise _refused(403, key, "this channel has no webhook handshake")
    if answer.status >= 400:
        raise _refused(403, key, f"handshake failed: {answer.body[:200]}")
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


@router.post("/{key}")
async def deliver(key: str, request: Request, runtime: Runtime = Depends(get_runtime)):
    """Verify the signature, store what the delivery holds, answer fast; processing happens in the worker."""
    req = await _request(request)  # read first for every key, known or not: the same work, the same answer
    channel, connector = _connector(runtime, key, 401)
    try:
        connector.verify_webhook(req)
    except SignatureError as exc:
        raise _refused(401, key, str(exc)) from None
    return await run_in_threadpool(_store, runtime, channel, connector, req)


def _store(runtime: Runtime, channel, connector, req: WebhookRequest):
    with runtime.session_factory.begin() as session:
        channel = session.merge(channel, load=False)
        try:
            items = connector.parse_webhook(req)
        except PayloadError as exc:
            failure = store_failure(session, channel, dict(req.headers), req.body, str(exc))
            # 200 so the platform does not retry a payload that will never parse; it is kept for review.
            return FastJSON({"accepted": [], "rejected": [], "failed_delivery": failure.id, "error": str(exc)})
        result = accept_from_connector(session, channel, items, runtime.settings.max_text_chars)
        if result.rejected:
            for r in result.rejected:
                store_failure(session, channel, dict(req.headers), req.body, f"item {r['index']}: {r['error']}")
    runtime.queue.enqueue(result.new_ids)
    runtime.wake_worker()
    return FastJSON(result.to_dict())

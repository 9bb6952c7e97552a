"""`/webhooks/{channel key}`: platform deliveries, verified, stored first, processed later."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from onevoice.channels.inbound import accept_from_connector, store_failure
from onevoice.channels.service import connector_for, get_channel
from onevoice.connectors.base import PayloadError, SignatureError, WebhookRequest
from onevoice.errors import NotFound
from onevoice.runtime import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.responses import FastJSON

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_BODY = 5_000_000


async def _request(request: Request) -> WebhookRequest:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"webhook body larger than {MAX_BODY} bytes")
    return WebhookRequest.build(request.method, dict(request.headers), dict(request.query_params), bytes(body))


def _connector(runtime: Runtime, key: str):
    with runtime.read_factory() as session:
        try:
            channel = get_channel(session, key)
        except NotFound:
            raise HTTPException(404, f"no channel {key!r}") from None
        if not channel.enabled:
            raise HTTPException(404, f"channel {key!r} is disabled")
        return channel, connector_for(channel, runtime.settings.secret_key.get_secret_value())


@router.get("/{key}")
async def handshake(key: str, request: Request, runtime: Runtime = Depends(get_runtime)):
    """The platform's verification handshake (Meta's hub.challenge, for example)."""
    _channel, connector = _connector(runtime, key)
    answer = connector.handshake(await _request(request))
    if answer is None:
        raise HTTPException(405, "this channel has no webhook handshake")
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


@router.post("/{key}")
async def deliver(key: str, request: Request, runtime: Runtime = Depends(get_runtime)):
    """Verify the signature, store what the delivery holds, answer fast; processing happens in the worker."""
    channel, connector = _connector(runtime, key)
    req = await _request(request)
    try:
        connector.verify_webhook(req)
    except SignatureError as exc:
        raise HTTPException(401, f"webhook rejected: {exc}") from None
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

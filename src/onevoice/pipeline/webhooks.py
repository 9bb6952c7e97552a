"""`/webhooks/{channel key}`: platform deliveries, verified, stored first, processed later.

Where there is an intake journal (SQLite without Redis) a verified delivery is answered 200 once it is durable
there (pipeline/journal.py); the worker stores and processes it. Elsewhere it is stored as messages in the
request's own transaction. Either way a 200 means the delivery is on disk, and nothing unverified is kept.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from onevoice.channels.service import connector_for, get_channel
from onevoice.connectors.base import PayloadError, SignatureError, WebhookRequest, loads_json
from onevoice.errors import NotFound
from onevoice.pipeline.inbound import accept_from_connector, store_failure
from onevoice.process import Runtime
from onevoice.web.deps import get_runtime
from onevoice.web.responses import FastJSON

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger(__name__)
MAX_BODY = 5_000_000
# A channel's configuration (secrets decrypted, settings validated) is reused for this long instead of being
# read and built for every delivery; disabling a channel or changing its secret takes effect within it.
CONNECTOR_SECONDS = 1.0


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


_cache: dict[tuple[int, str], tuple[float, object, object]] = {}
_cache_lock = threading.Lock()


def _connector(runtime: Runtime, key: str, refusal: int):
    slot = (id(runtime), key)
    hit = _cache.get(slot)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1], hit[2]
    found = _load_connector(runtime, key, refusal)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[slot] = (time.monotonic() + CONNECTOR_SECONDS, *found)
    return found


def _load_connector(runtime: Runtime, key: str, refusal: int):
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
async def deliver(key: str, request: Request):
    """Verify the signature, store what the delivery holds, answer fast; processing happens in the worker."""
    # Read here, not through Depends(get_runtime): a plain (sync) dependency is run in the thread pool, a
    # thread hop per delivery that cost more CPU than the signature check.
    runtime: Runtime = request.app.state.runtime
    req = await _request(request)  # read first for every key, known or not: the same work, the same answer
    channel, connector = _connector(runtime, key, 401)
    try:
        connector.verify_webhook(req)
    except SignatureError as exc:
        raise _refused(401, key, str(exc)) from None
    try:  # every platform we receive from sends JSON; a body that is not is refused, not stored
        loads_json(req.body)
    except PayloadError as exc:
        raise HTTPException(400, str(exc)) from None
    journal = runtime.journal
    if journal is None:
        return await run_in_threadpool(_store, runtime, channel, connector, req)
    # Platforms resend on anything but a quick 200; what they resend is the signed request, so the headers
    # kept are the ones the connector reads, not cookies or proxies' additions.
    headers = {k: v for k, v in req.headers.items() if k.lower().startswith(("x-", "content-type"))}
    try:
        seq, duplicate = await asyncio.wrap_future(journal.append(channel.id, headers, req.body))
    except Exception:
        log.exception("webhook for %r not journaled", key[:100])
        # 503: the platform retries later; never a 200 for a delivery that is not on disk.
        raise HTTPException(503, "delivery not stored; retry later") from None
    return FastJSON({"stored": True, "delivery": seq, "duplicate": duplicate})


async def _deliver_lean(request: Request):
    return await deliver(request.path_params["key"], request)


def lean_route() -> Route:
    """`POST /webhooks/{key}` as a plain route matched before all others, calling `deliver` itself: the same
    checks (body size, signature, JSON) and answers, without FastAPI's walk through every router and its
    dependency solving, which cost a delivery more CPU than its signature check. The FastAPI route above
    stays for the API's description (and answers only if this one were not installed)."""
    return Route("/webhooks/{key}", _deliver_lean, methods=["POST"])


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
        if result.failures:
            for r in result.failures:
                store_failure(session, channel, dict(req.headers), req.body, f"item {r['index']}: {r['error']}")
    runtime.queue.enqueue(result.new_ids)
    runtime.wake_worker()
    return FastJSON(result.to_dict())
